// Score raw d2l-format lines with an exported deepfm-gluon model in Node.js.
//   ONNXRUNTIME_NODE_INSTALL=skip npm install      (the CPU runtime ships in the package)
//   node score.js model.onnx model.encoder.json < lines.tsv
// Each input line: the fields, tab-separated (a leading 0/1 label is dropped).
// Prints one click probability per line.
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const [modelPath, encoderPath] = process.argv.slice(2);
  const encoder = JSON.parse(fs.readFileSync(encoderPath, "utf8"));
  if (encoder.kind !== "vocabulary" || encoder.fields.some((f) => f.transform !== "identity"))
    throw new Error("this example implements vocabulary encoders with identity transforms (docs/encoder.md)");
  const F = encoder.fields.length;
  const offsets = [];  // each field's first row in the shared table
  encoder.fields.reduce((start, field) => { offsets.push(start); return start + Object.keys(field.vocabulary).length + 1; }, 0);
  const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0);
  const indices = new BigInt64Array(lines.length * F);
  lines.forEach((line, r) => {
    let values = line.replace(/\r$/, "").split("\t");
    if (values.length === F + 1) values = values.slice(1);
    if (values.length !== F) throw new Error(`line ${r + 1}: ${values.length} fields, expected ${F}`);
    encoder.fields.forEach((field, f) => {  // the encoder rule, nothing else
      const local = Object.hasOwn(field.vocabulary, values[f]) ? field.vocabulary[values[f]] : field.default;
      indices[r * F + f] = BigInt(offsets[f] + local);
    });
  });
  const session = await ort.InferenceSession.create(modelPath);
  const input = new ort.Tensor("int64", indices, [lines.length, F]);
  const output = await session.run({ [session.inputNames[0]]: input });
  for (const p of output[session.outputNames[0]].data) console.log(p.toFixed(8));
}

main().catch((err) => { console.error(`score.js: ${err.message}`); process.exit(1); });
