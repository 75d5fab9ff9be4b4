// lib/kernel_contract.ts against the addon it describes: the defaults the losses and the composite
// give the elementwise kernel's optional options are the native table's (native/include/focal_loss.h),
// so a default changed there and not here fails.
import {ELEMENTWISE_OPTION_DEFAULTS} from '../lib/kernel_contract';
import {addon} from '../lib/native';

describe('kernel contract', () => {
  test('the elementwise option defaults are the native table\'s optional options', () => {
    const optional = addon().kernelOptions().sigmoidFocalLoss.filter((o) => !o.required);
    expect(Object.fromEntries(optional.map((o) => [o.key, o.default]))).toEqual(ELEMENTWISE_OPTION_DEFAULTS);
  });
});
