"""The paper's Poisson experiment: an image from its gradient alone, with the builder of
`sirenkit fit poisson --operator sobel` (:func:`sirenkit.physics.poisson.poisson_problem`: the
Sobel gradient of cameraman, 128 x 128, in grid units); a gradient does not fix the constant, so
the field's mean is also pinned to the image's (``values``)."""

import sirenkit as sk
from sirenkit.physics.poisson import poisson_problem
from sirenkit.signals.discrete import sobel_gradient

image = sk.load_image("camera", size=128)  # (H, W, 1) in [-1, 1]
pixels = sk.grid(image.shape[:2])
gradient = sobel_gradient(image).reshape(len(pixels), 1, 2)  # d/dy, d/dx
values = image.reshape(len(pixels), 1)
problem = poisson_problem(pixels, gradient, laplacian=False, points=4096, values=values)
field = sk.Siren(2, 128, 2, 1, w0=30.0)
steps = 1000
reference = sk.Reference(pixels, values)
