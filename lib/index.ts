// Public API of tfjs-focal-loss. Importing it registers the 'FocalLoss' and 'SigmoidFocalLoss'
// kernels, their backward kernels and their gradients for the 'tensorflow' (@tensorflow/tfjs-node)
// and 'cpu' backends.
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's CommonJS bundle registers no gradients for its own ops; the @tensorflow/tfjs bundle
// registers all of them in the global registry. The reductions and the labels gradients are
// ordinary tfjs ops, so without this tf.grad / model.fit through focalLoss fails on 'cpu' with
// "gradient function not found for Sum" (tfjs-node loads @tensorflow/tfjs anyway).
import '@tensorflow/tfjs';

export {FocalLoss, FocalLossGrad} from './kernels/FocalLoss';
export type {FocalLossGradInputs, FocalLossInputs} from './kernels/FocalLoss';
export {SigmoidFocalLoss, SigmoidFocalLossGrad} from './kernels/SigmoidFocalLoss';
export type {SigmoidFocalLossGradInputs, SigmoidFocalLossInputs} from './kernels/SigmoidFocalLoss';
export type {KernelReduction} from './kernels/engine';
export {classBalancedAlpha} from './losses/class_balance';
export type {ClassBalancedAlphaOptions} from './losses/class_balance';
export {categoricalFocalCrossentropy, FOCAL_LOSS_SCHEMA, focalLoss, sparseCategoricalFocalCrossentropy} from './losses/focal_loss';
export type {CategoricalFocalCrossentropyConfig, FocalLossAttrs, FocalLossOptions} from './losses/focal_loss';
export type {FocalLossFunction} from './losses/keras';
export {binaryFocalCrossentropy, SIGMOID_FOCAL_LOSS_SCHEMA, sigmoidFocalLoss} from './losses/sigmoid_focal_loss';
export type {BinaryFocalCrossentropyConfig, SigmoidFocalLossAttrs, SigmoidFocalLossOptions} from './losses/sigmoid_focal_loss';
export {getNumThreads, setNumThreads, simdLevel} from './native';
export {tensorflowOpsStatus} from './paths/tensorflow_op';
// The elementwise family (issue 17): Poly-1 is `polyEpsilon` on sigmoidFocalLoss /
// binaryFocalCrossentropy; these run through the 'SigmoidFocalLoss' kernel with a `loss` attribute.
export {asymmetricCrossentropy, asymmetricLoss, ASYMMETRIC_LOSS_SCHEMA} from './losses/asymmetric_loss';
export type {AsymmetricCrossentropyConfig, AsymmetricLossOptions} from './losses/asymmetric_loss';
export {qualityFocalCrossentropy, qualityFocalLoss, QUALITY_FOCAL_LOSS_SCHEMA} from './losses/quality_focal_loss';
export type {QualityFocalCrossentropyConfig, QualityFocalLossOptions} from './losses/quality_focal_loss';
export {varifocalCrossentropy, varifocalLoss, VARIFOCAL_LOSS_SCHEMA} from './losses/varifocal_loss';
export type {VarifocalCrossentropyConfig, VarifocalLossOptions} from './losses/varifocal_loss';
export type {ElementwiseLossKind} from './losses/sigmoid_focal_loss';
export {asymmetricComposite, elementwiseFamilyComposite, polySigmoidFocalComposite, qualityFocalComposite, varifocalComposite} from './paths/composite_family';
