// Public API of tfjs-focal-loss. Importing this module registers the 'FocalLoss' and
// 'SigmoidFocalLoss' kernels, their backward kernels and their gradients for the 'tensorflow'
// (@tensorflow/tfjs-node) and 'cpu' backends.
// First: a missing or unsupported tfjs is reported before anything imports it.
import './peers';
// The one tfjs package this library imports (every lib/ file imports '@tensorflow/tfjs', the
// user's copy: a peer dependency). Its bundle brings tfjs-core, the 'cpu' backend and the
// gradients of all of tfjs-core's ops, which tfjs-core's own CommonJS bundle does not register
// (the reductions and the labels gradients are ordinary tfjs ops).
import '@tensorflow/tfjs';
import './kernels/FocalLossGrad';
import './kernels/SigmoidFocalLossGrad';
import './kernels/FocalLoss';
import './kernels/SigmoidFocalLoss';

export {classBalancedAlpha} from './class_balance';
export type {ClassBalancedAlphaOptions} from './class_balance';
export {focalLoss} from './focal_loss';
export type {FocalLossOptions} from './focal_loss';
export {binaryFocalCrossentropy, categoricalFocalCrossentropy, sparseCategoricalFocalCrossentropy} from './keras';
export type {BinaryFocalCrossentropyConfig, CategoricalFocalCrossentropyConfig, FocalLossFunction} from './keras';
export {FocalLoss} from './kernels/FocalLoss';
export type {FocalLossAttrs, FocalLossInputs} from './kernels/FocalLoss';
export {FocalLossGrad} from './kernels/FocalLossGrad';
export type {FocalLossGradInputs} from './kernels/FocalLossGrad';
export {SigmoidFocalLoss} from './kernels/SigmoidFocalLoss';
export type {SigmoidFocalLossAttrs, SigmoidFocalLossInputs} from './kernels/SigmoidFocalLoss';
export {SigmoidFocalLossGrad} from './kernels/SigmoidFocalLossGrad';
export type {SigmoidFocalLossGradInputs} from './kernels/SigmoidFocalLossGrad';
export {getNumThreads, setNumThreads, simdLevel} from './native';
export {nativeStatus, selectPath} from './paths/select';
export type {ComputePath, NativeStatus, PathChoice} from './paths/select';
export {sigmoidFocalLoss} from './sigmoid_focal_loss';
export type {SigmoidFocalLossOptions} from './sigmoid_focal_loss';
export {tensorflowOpsStatus} from './kernels/tensorflow_ops';
export type {KernelReduction} from './kernels/kernel_utils';
