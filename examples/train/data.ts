/**
 * @file Loads Fashion-MNIST from the IDX `.gz` files of Debian's `dataset-fashion-mnist` package
 * (or any directory holding the four standard files). Node-only (reads files).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Tensor } from "@tapegrad/tensor";
import { decodeIdx, idxToImages, idxToLabels, isGzip, type IdxArray } from "@tapegrad/nn";

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist";

const FILES = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
} as const;

/** Images `[N, 784]` in [0, 1] and labels 0–9. */
export interface Split {
  x: Tensor;
  y: Int32Array;
}

/** Class names of Fashion-MNIST, by label. */
export const CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/** True when all four files are present in `dir`. */
export function hasFashionMnist(dir = DEFAULT_DATA_DIR): boolean {
  return Object.values(FILES).every((f) => existsSync(join(dir, f)) || existsSync(join(dir, f.replace(/\.gz$/, ""))));
}

/**
 * Reads and decodes one IDX file. NOTE: gunzips with node:zlib rather than the web
 * `DecompressionStream` (which `@tapegrad/nn`'s `readIdx` uses for browsers): web streams detach
 * ArrayBuffers, and on V8 a single detach makes every later typed-array loop in the process
 * slower (the ArrayBufferDetaching protector), about 2x for simple kernels.
 */
function read(dir: string, name: string): IdxArray {
  const gz = join(dir, name);
  const raw = join(dir, name.replace(/\.gz$/, ""));
  const bytes = new Uint8Array(readFileSync(existsSync(gz) ? gz : raw));
  return decodeIdx(isGzip(bytes) ? new Uint8Array(gunzipSync(bytes)) : bytes);
}

/**
 * Reads the train and test splits.
 *
 * @throws {Error} naming the missing files and how to get them.
 */
export async function loadFashionMnist(dir = DEFAULT_DATA_DIR): Promise<{ train: Split; test: Split }> {
  if (!hasFashionMnist(dir)) {
    const missing = Object.values(FILES).filter((f) => !existsSync(join(dir, f)) && !existsSync(join(dir, f.replace(/\.gz$/, ""))));
    throw new Error(
      `Fashion-MNIST not found in ${dir} (missing ${missing.join(", ")}).\n` +
        `Install Debian's package (it puts the files in ${DEFAULT_DATA_DIR}):\n` +
        `  sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist\n` +
        `or pass --data-dir <directory with the four idx .gz files from https://github.com/zalandoresearch/fashion-mnist>.`,
    );
  }
  const train = { x: idxToImages(read(dir, FILES.trainImages)), y: idxToLabels(read(dir, FILES.trainLabels)) };
  const test = { x: idxToImages(read(dir, FILES.testImages)), y: idxToLabels(read(dir, FILES.testLabels)) };
  if (train.x.shape[0] !== train.y.length || test.x.shape[0] !== test.y.length) throw new Error("Fashion-MNIST: image and label counts differ");
  return { train, test };
}
