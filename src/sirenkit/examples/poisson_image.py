"""The paper's Poisson experiment: an image from its gradient alone. The gradient constraint
holds at the pixels (Sobel gradient of cameraman, 128 x 128, in grid units); the mean of the
field is pinned to the image's, since a gradient does not fix the constant."""

import sirenkit as sk
from sirenkit.signals.discrete import sobel_gradient

image = sk.load_image("camera", size=128)  # (H, W, 1) in [-1, 1]
pixels = sk.grid(image.shape[:2]).numpy()
gradient = sobel_gradient(image)[:, :, 0, :].reshape(-1, 2)
problem = sk.Problem(
    [
        sk.Constraint(
            sk.domains.PointSet(pixels, gradient), lambda f: f.grad - f.data, points=4096
        ),
        sk.Constraint(
            sk.domains.PointSet(pixels, image.reshape(-1)),
            lambda f: (f.u - f.data).mean().expand(len(f.x)),
            points=4096,
        ),
    ],
    names=("y", "x"),
)
field = sk.Siren(2, 128, 2, 1, w0=30.0)
steps = 1000
reference = sk.Reference(pixels, image.reshape(-1))
