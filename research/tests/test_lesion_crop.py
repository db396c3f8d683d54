import numpy as np

from research.skin_lesion.lesion_crop import crop_box, mask_box


def test_crop_box_square_with_margin_inside_the_image():
    mask = np.zeros((150, 200), bool)
    mask[50:70, 90:130] = True  # 20 × 40 pixels
    box = mask_box(mask)
    assert box == (50, 90, 70, 130)
    y1, x1, y2, x2 = crop_box(box, 150, 200)
    side = 40 * 1.3
    assert np.isclose((y2 - y1) * 150, side) and np.isclose((x2 - x1) * 200, side)
    assert np.isclose((y1 + y2) / 2 * 150, 60) and np.isclose((x1 + x2) / 2 * 200, 110)


def test_crop_box_moved_inside_cut_to_the_image_and_empty_mask():
    mask = np.zeros((150, 200), bool)
    mask[0:10, 190:200] = True  # in the corner: moved inside
    y1, x1, y2, x2 = crop_box(mask_box(mask), 150, 200)
    assert y1 == 0 and np.isclose(x2, 1) and np.isclose((x2 - x1) * 200, 13)
    mask[:, :] = True  # larger than the image: the whole image
    assert np.allclose(crop_box(mask_box(mask), 150, 200), [0, 0, 1, 1])
    assert mask_box(np.zeros((4, 4), bool)) is None
    assert np.allclose(crop_box(None, 150, 200), [0, 0, 1, 1])
