// tfjs-core's CommonJS bundle registers no gradient functions; the @tensorflow/tfjs bundle (which
// tfjs-node loads too) registers all of them in the global registry. Without it tf.grad of the
// composed oracle and of the library's reductions fails on the cpu backend with "gradient function
// not found for Sum". Importing it here keeps both backends on the same gradient definitions.
import '@tensorflow/tfjs';
