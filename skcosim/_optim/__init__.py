"""Gradient training of the linear autoencoders: everything iterative, once.

- :mod:`._losses`: the losses and their analytic gradients with respect to
  the encoder ``A`` and the decoder ``B``;
- :mod:`._lbfgs`: the full-batch L-BFGS driver and the spectral
  preconditioner of Objective 2;
- :mod:`._sgd`: dropout SGD, minibatch descent with real input-dropout masks;
- :mod:`._sampled_softmax`: the sampled softmax of Objective 3 on large
  catalogues;
- :mod:`._params`, :mod:`._progress`, :mod:`._checks`: the float64
  parameters, progress output and the checks at the start and end of a run.
"""
