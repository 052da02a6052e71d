#!/usr/bin/env node
// Validates rendered manifests offline against the Kubernetes API's schema (the OpenAPI
// schema kubernetes-models compiles): types, enums and required fields by the schema's own
// validator, and every field used by a probe, since the schema lets unknown fields through:
// a field is known when giving it a value of the wrong type makes the validator complain
// about it. A typo (completionModee) is silently ignored by a real cluster too — the Job
// would run without its Indexed mode — so it is an error here.
//
//   node validate.mjs run.yaml merge.yaml      # exit 1 naming each problem
//   node validate.mjs --self-test              # the checks themselves fail on bad input
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { ConfigMap, PersistentVolumeClaim, Secret } from "kubernetes-models/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Render, Values } from "./render.mjs";

const kinds = { "v1/ConfigMap": ConfigMap, "v1/PersistentVolumeClaim": PersistentVolumeClaim, "v1/Secret": Secret, "batch/v1/Job": Job };

function errorsOf(Model, object) {
  try {
    new Model(object).validate();
    return [];
  } catch (e) {
    return (e.errors ?? [{ instancePath: "", message: e.message }]).map((x) => ({ path: x.instancePath ?? "", message: x.message ?? String(x) }));
  }
}

// Every key path in the object: ["spec", "template", "spec", "containers", 0, "name"], ...
function* paths(value, at = []) {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; ++i) yield* paths(value[i], [...at, i]);
  } else if (value !== null && typeof value === "object") {
    for (const k of Object.keys(value)) {
      yield [...at, k];
      yield* paths(value[k], [...at, k]);
    }
  }
}

const pointer = (p) => "/" + p.map((s) => String(s).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

// Problems of one manifest, each "Kind name: path: message".
export function validate(object) {
  const key = `${object?.apiVersion}/${object?.kind}`;
  const Model = kinds[key];
  if (!Model) return [`${key}: not a kind these manifests use`];
  const where = `${object.kind} ${object.metadata?.name ?? "(no name)"}`;
  const problems = errorsOf(Model, object).map((e) => `${where}: ${e.path || "/"}: ${e.message}`);
  if (problems.length) return problems;
  for (const p of paths(object)) {
    if (p.length === 1 && (p[0] === "apiVersion" || p[0] === "kind")) continue;
    const probe = structuredClone(object);
    let parent = probe;
    for (const s of p.slice(0, -1)) parent = parent[s];
    const last = p[p.length - 1];
    // No Kubernetes field takes both a boolean and a string.
    parent[last] = typeof parent[last] === "boolean" ? "probe" : true;
    const at = pointer(p);
    if (!errorsOf(Model, probe).some((e) => e.path === at || e.path.startsWith(at + "/"))) {
      problems.push(`${where}: ${at}: not a field of the ${object.apiVersion} ${object.kind} API`);
    }
  }
  return problems;
}

export function validateText(text, name) {
  const problems = [];
  let count = 0;
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      problems.push(`${name}: ${doc.errors[0].message.split("\n")[0]}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    ++count;
    for (const p of validate(object)) problems.push(`${name}: ${p}`);
    if (/\$\{[A-Z_]+\}/.test(JSON.stringify(object))) problems.push(`${name}: ${object.kind}: a \${...} placeholder was not rendered`);
  }
  return { problems, count };
}

function selfTest() {
  const { values } = Values(["--image", "pmbench:test", "--start-at", "2026-12-03T20:30:00Z", "--shards", "4"]);
  const m = Render(values);
  const run = parseAllDocuments(m.run).map((d) => d.toJS());
  const job = run.find((o) => o.kind === "Job");
  const failures = [];
  const expectRejected = (what, mutate) => {
    const o = structuredClone(job);
    mutate(o);
    if (validate(o).length === 0) failures.push(`accepted ${what}`);
  };
  if (validate(job).length) failures.push(`rejected the rendered Job: ${validate(job)[0]}`);
  if (job.spec.completionMode !== "Indexed" || job.spec.completions !== 4 || job.spec.parallelism !== 4) {
    failures.push("the rendered Job is not Indexed with 4 completions in parallel");
  }
  const cm = run.find((o) => o.kind === "ConfigMap");
  if (cm.data.args.split("\n").filter(Boolean).length !== values.ARGS.length || cm.data.SHARDS !== "4") {
    failures.push("the ConfigMap does not hold the arguments one per line and the shard count");
  }
  // A scenario: the platform's Job serves at its pod's address, and the shards load it.
  const scenario = Render(Values(["--image", "pmbench:test", "--start-at", "2026-12-03T20:30:00Z", "--args-file",
                                  fileURLToPath(new URL("./peak.args", import.meta.url))]).values);
  const platform = scenario.platform ? parseAllDocuments(scenario.platform).map((d) => d.toJS()) : [];
  const serving = platform.find((o) => o.kind === "Job")?.spec.template.spec.containers[0];
  if (!serving || !serving.args[0].includes('--listen "$POD_IP"') || !serving.env.some((e) => e.valueFrom?.fieldRef?.fieldPath === "status.podIP")) {
    failures.push("a scenario's platform Job does not serve at its pod's address");
  }
  const shardArgs = platform.find((o) => o.kind === "ConfigMap")?.data.args ?? "";
  if (!shardArgs.includes("--platform\n/results/platform.json") || !scenario.run.includes("completionMode: Indexed")) {
    failures.push("a scenario's shards do not load the platform's state");
  }
  expectRejected("a misspelt field (completionModee)", (o) => { o.spec.completionModee = o.spec.completionMode; delete o.spec.completionMode; });
  expectRejected("a misspelt container field (imagePullPolicyy)", (o) => { o.spec.template.spec.containers[0].imagePullPolicyy = "Always"; });
  expectRejected("an unknown completion mode", (o) => { o.spec.completionMode = "Indexd"; });
  expectRejected("a string where an integer goes", (o) => { o.spec.completions = "4"; });
  expectRejected("a container without a name", (o) => { delete o.spec.template.spec.containers[0].name; });
  for (const bad of [["--image", "x"], ["--image", "x", "--start-at", "tomorrow"], ["--image", "x", "--start-at", "2026-12-03T20:30:00Z", "--shards", "0"]]) {
    try {
      Values(bad);
      failures.push(`render accepted ${bad.join(" ")}`);
    } catch {}
  }
  return failures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes("--help")) {
    process.stdout.write("Usage: deploy/kubernetes/validate.mjs MANIFEST.yaml... | --self-test\n");
    process.exit(argv.length ? 0 : 2);
  }
  if (argv[0] === "--self-test") {
    const failures = selfTest();
    for (const f of failures) process.stderr.write(`validate: self-test: ${f}\n`);
    process.exit(failures.length ? 1 : 0);
  }
  let bad = 0;
  for (const file of argv) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      process.stderr.write(`validate: cannot read ${file}\n`);
      process.exit(2);
    }
    const { problems, count } = validateText(text, file);
    for (const p of problems) process.stderr.write(`validate: ${p}\n`);
    if (!problems.length) process.stderr.write(`validate: ${file}: ${count} manifest(s) valid, every field known to the API\n`);
    bad += problems.length;
  }
  process.exit(bad ? 1 : 0);
}
