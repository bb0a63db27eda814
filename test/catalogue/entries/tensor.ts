/**
 * @file Bad-input catalogue: `@tapegrad/tensor` (data only; see ../types.ts), in three modules:
 * creation, the RNG and the `Tensor` class (./tensor-create.ts); elementwise ops, reductions and
 * matmul (./tensor-math.ts); indexing, shape helpers, conv/pool/norm, int8 and the memory, kernel
 * and thread API (./tensor-ops.ts). Their order here is the catalogue's (test titles number the
 * entries). `scripts/catalogue-fill.ts` fills one module at a time: `tensor-create`, `tensor-math`
 * or `tensor-ops`.
 */
import type { BadCall } from "../types.js";
import { entries as create } from "./tensor-create.js";
import { entries as math } from "./tensor-math.js";
import { entries as ops } from "./tensor-ops.js";

export const entries: BadCall[] = [...create, ...math, ...ops];
