"""Data augmentation on image tensors, written with torch alone (torchvision is not needed).

Two layers, as in torchvision: :mod:`~dlcourse.augment.functional` applies given parameters
(``hflip``, ``vflip``, ``rotate``, ``affine``, ``resized_crop``, ``adjust_brightness``,
``adjust_contrast``, ``shift_channels``), and :mod:`~dlcourse.augment.transforms` draws them at
random, per image, from a seeded :class:`torch.Generator` (``RandomHorizontalFlip``,
``RandomVerticalFlip``, ``RandomRotation``, ``RandomAffine``, ``RandomResizedCrop``,
``ColorJitter``, chained with ``Compose``)::

    aug = Compose([RandomHorizontalFlip(), RandomRotation(15), ColorJitter(0.2, 0.2, 0.05)])
    batch = aug(images, generator=dlcourse.generator(0))   # (N, C, H, W), a new draw per image

See the book: Data augmentation.
"""

from dlcourse.augment import functional
from dlcourse.augment.transforms import (
    ColorJitter,
    Compose,
    RandomAffine,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Transform,
)

__all__ = [
    "ColorJitter",
    "Compose",
    "RandomAffine",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Transform",
    "functional",
]
