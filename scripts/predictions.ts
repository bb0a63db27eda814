/**
 * @file tapegrad's side of scripts/torch-check.py: loads a `pnpm train --save FILE.safetensors`
 * model (the trainer's MLP with the given hidden sizes) with `@tapegrad/io` and prints its
 * Fashion-MNIST test accuracy and the sha256 of its predictions (int32 class per test image), the
 * same two lines the PyTorch script prints for the same file.
 *
 * Usage: pnpm exec tsx --conditions=source scripts/predictions.ts FILE.safetensors [256,256]
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Rng, argmax } from "@tapegrad/tensor";
import { noGrad, constant } from "@tapegrad/autograd";
import { readSafetensors, toTensor } from "@tapegrad/io";
import { DEFAULTS, makeModel } from "../examples/train/trainer.js";
import { loadFashionMnist } from "../examples/train/data.js";

const [path, hiddenArg] = process.argv.slice(2);
const hidden = (hiddenArg ?? "256,256").split(",").map(Number);
const model = makeModel({ ...DEFAULTS, hidden }, new Rng(0));
const file = readSafetensors(new Uint8Array(readFileSync(path!)));
model.loadStateDict(Object.fromEntries(file.tensors.map((t) => [t.name, toTensor(t)])));
model.eval();
const { test } = await loadFashionMnist();
const pred = argmax(noGrad(() => model.forward(constant(test.x))).value, 1);
const p = Int32Array.from(pred.toFloat32Array());
let correct = 0;
for (let i = 0; i < p.length; i++) if (p[i] === test.y[i]) correct++;
console.log(`accuracy ${(correct / p.length).toFixed(4)}`);
console.log("predictions sha256", createHash("sha256").update(new Uint8Array(p.buffer)).digest("hex"));
