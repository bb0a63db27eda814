/**
 * @file The stand-in arguments of the `@tapegrad/tensor` bad-input catalogue
 * (`test/catalogue/entries/tensor-*.ts`): values of the wrong type and two small tensors.
 */
import * as t from "@tapegrad/tensor";

export const S = "x" as any; // a string where a Tensor or number goes
export const U = undefined as any;
export const N = null as any;
export const O = {} as any;
export const A = (): t.Tensor => t.ones([2, 3]);
export const B = (): t.Tensor => t.ones([4, 5]);
