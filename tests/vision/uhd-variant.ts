// The SmolVLM mmproj without `clip.vision.preproc_image_size` (the layout of older SmolVLM GGUFs), shared by
// scripts/reference/vision-uhd-golden.ts (which records llama.cpp's output on it) and tests/vision/idefics3-uhd.test.ts.
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { writeGGUF, type GGUFMetadataEntry } from '../../src/formats/gguf/writer.js';

/** Copies `src` to `dst` without the `clip.vision.preproc_image_size` key (tensors unchanged). */
export function writeUhdVariant(src: string, dst: string): void {
  const f = openGGUF(src);
  const metadata: GGUFMetadataEntry[] = [...f.metadata].filter(([k]) => k !== 'clip.vision.preproc_image_size')
    .map(([key, value]) => ({ key, type: f.metadataTypes.get(key)!, value, arrayType: f.metadataArrayTypes.get(key) }));
  writeGGUF(dst, { metadata, tensors: f.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: f.tensorData(t) })) });
}
