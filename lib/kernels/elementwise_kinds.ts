// The losses the elementwise kernel ('SigmoidFocalLoss') computes, by kind: the native code of
// each (native/include/focal_loss.h ElementwiseLoss) and the function its errors are reported under.
import type {ElementwiseLossKind} from '../losses/sigmoid_focal_loss';

export const ELEMENTWISE_LOSS_CODES: {[k in ElementwiseLossKind]: number} =
    {focal: 0, varifocal: 1, qualityFocal: 2, asymmetric: 3};

export const ELEMENTWISE_LOSS_FUNCTIONS: {[k in ElementwiseLossKind]: string} = {
  focal: 'sigmoidFocalLoss', varifocal: 'varifocalLoss', qualityFocal: 'qualityFocalLoss',
  asymmetric: 'asymmetricLoss',
};
