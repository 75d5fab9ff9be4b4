// jest-environment-node-single-context runs every test module in Node's main context so that
// objects created by native code (tfjs-node tensors' TypedArrays, this package's addon) and by
// tfjs pass each other's `instanceof` checks. It does so by redirecting `script.runInContext`,
// which Jest 30 no longer uses for CommonJS: it compiles modules with
// `vm.compileFunction(..., {parsingContext})`, so every module runs in a separate realm again.
// Functions defined there then fail `instanceof Function` in the main realm, which is exactly how
// tfjs-core recognises a tf.Variable (Variable[Symbol.hasInstance] checks
// `instance.assign instanceof Function`): model.fit / optimizer.minimize throw "The varList
// passed in variableGrads(f, varList) must be an array of variables". This environment applies
// the same redirection to vm.compileFunction.
const vm = require('vm');
const SingleContextNodeEnvironment = require('jest-environment-node-single-context');

const singleContexts = new WeakSet();
const originalCompileFunction = vm.compileFunction;

vm.compileFunction = function compileFunction(code, params, options) {
  if (options != null && options.parsingContext != null &&
      singleContexts.has(options.parsingContext)) {
    const {parsingContext, ...inThisContext} = options;  // eslint-disable-line no-unused-vars
    return originalCompileFunction.call(this, code, params, inThisContext);
  }
  return originalCompileFunction.call(this, code, params, options);
};

class Jest30SingleContextEnvironment extends SingleContextNodeEnvironment {
  constructor(config, context) {
    super(config, context);
    if (this.context != null) {
      singleContexts.add(this.context);
    }
  }
}

module.exports = Jest30SingleContextEnvironment;
