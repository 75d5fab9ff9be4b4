// Public API of tfjs-focal-loss. Importing it registers the 'SoftmaxFocalLoss' (alias 'FocalLoss')
// and 'SigmoidElementwiseLoss' (alias 'SigmoidFocalLoss') kernels, their backward kernels and their
// gradients for the 'tensorflow' (@tensorflow/tfjs-node) and 'cpu' backends; on any other backend
// the losses run as a composite of tfjs ops.
// First: a missing or unsupported tfjs is reported before anything imports it.
import './peers';
// The one tfjs package this library imports (every lib/ file imports '@tensorflow/tfjs', the
// user's copy: a peer dependency). Its bundle brings tfjs-core, the 'cpu' backend and the
// gradients of all of tfjs-core's ops, which tfjs-core's own CommonJS bundle does not register
// (the reductions and the labels gradients are ordinary tfjs ops).
import '@tensorflow/tfjs';

export {FocalLoss, FocalLossGrad, SoftmaxFocalLoss, SoftmaxFocalLossGrad} from './kernels/SoftmaxFocalLoss';
export type {FocalLossGradInputs, FocalLossInputs, SoftmaxFocalLossGradInputs, SoftmaxFocalLossInputs} from './kernels/SoftmaxFocalLoss';
export {SigmoidElementwiseLoss, SigmoidElementwiseLossGrad, SigmoidFocalLoss, SigmoidFocalLossGrad} from './kernels/SigmoidElementwiseLoss';
export type {SigmoidElementwiseLossGradInputs, SigmoidElementwiseLossInputs, SigmoidFocalLossGradInputs, SigmoidFocalLossInputs} from './kernels/SigmoidElementwiseLoss';
export type {KernelReduction} from './kernel_contract';
export {classBalancedAlpha} from './losses/class_balance';
export type {ClassBalancedAlphaOptions} from './losses/class_balance';
export {categoricalFocalCrossentropy, FOCAL_LOSS_SCHEMA, focalLoss, sparseCategoricalFocalCrossentropy} from './losses/focal_loss';
export type {CategoricalFocalCrossentropyConfig, FocalLossAttrs, FocalLossOptions, SoftmaxFocalLossAttrs, ResolvedCategoricalFocalCrossentropyConfig} from './losses/focal_loss';
export type {FocalLossFunction} from './losses/keras';
export {binaryFocalCrossentropy, SIGMOID_FOCAL_LOSS_SCHEMA, sigmoidFocalLoss} from './losses/sigmoid_focal_loss';
export type {BinaryFocalCrossentropyConfig, ResolvedBinaryFocalCrossentropyConfig, SigmoidElementwiseLossAttrs, SigmoidFocalLossAttrs, SigmoidFocalLossOptions} from './losses/sigmoid_focal_loss';
export {getNumThreads, setNumThreads, simdLevel} from './native';
export {nativeStatus, selectPath} from './paths/select';
export type {ComputePath, NativeStatus, PathChoice} from './paths/select';
export {tensorflowOpsStatus} from './paths/tensorflow_op';
export {NO_WARNINGS_ENV, setProbabilityWarning} from './validation/probability_warning';
// The elementwise family (issue 17): Poly-1 is `polyEpsilon` on sigmoidFocalLoss /
// binaryFocalCrossentropy; these run through the 'SigmoidElementwiseLoss' kernel with a `loss` attribute.
export {asymmetricCrossentropy, asymmetricLoss, ASYMMETRIC_LOSS_SCHEMA} from './losses/asymmetric_loss';
export type {AsymmetricCrossentropyConfig, AsymmetricLossOptions, ResolvedAsymmetricCrossentropyConfig} from './losses/asymmetric_loss';
export {qualityFocalCrossentropy, qualityFocalLoss, QUALITY_FOCAL_LOSS_SCHEMA} from './losses/quality_focal_loss';
export type {QualityFocalCrossentropyConfig, QualityFocalLossOptions, ResolvedQualityFocalCrossentropyConfig} from './losses/quality_focal_loss';
export {varifocalCrossentropy, varifocalLoss, VARIFOCAL_LOSS_SCHEMA} from './losses/varifocal_loss';
export type {ResolvedVarifocalCrossentropyConfig, VarifocalCrossentropyConfig, VarifocalLossOptions} from './losses/varifocal_loss';
export type {ElementwiseLossKind} from './losses/sigmoid_focal_loss';
