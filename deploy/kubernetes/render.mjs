#!/usr/bin/env node
// Renders the manifests of one sharded run: run.yaml (the ConfigMap, the results volume,
// the Indexed Job of shards) and merge.yaml (the merge Job, applied once the shards are
// done). A scenario (`scenario run NAME`) also gets platform.yaml — the ConfigMap, the
// volume and the Job serving the platform every shard loads — and run.yaml holds the
// shards alone. The templates are the YAML files beside this script; ${NAME} is a value below.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const usage = `Usage: deploy/kubernetes/render.mjs --image IMAGE --start-at TIME [options]

Writes run.yaml and merge.yaml (to --out DIR, default: stdout, run then merge); for a
scenario (args "scenario", "run", NAME, ...) platform.yaml first.

  --image IMAGE          the pmbench image (deploy/kubernetes/Dockerfile)
  --start-at TIME        when every shard starts, UTC RFC 3339: far enough ahead for every
                         pod to be scheduled, pulled and connected (a shard that starts
                         late exits 1 and the merge refuses the run)
  --shards N             load generator pods                                   [4]
  --args-file FILE       the load command or scenario, one argument per line
                         [scenario.args; peak.args is a sharded scenario]
  --cpu CPU              each shard's CPU request                               [2]
  --storage-class NAME   a ReadWriteMany class for the results volume           [nfs]
  --out DIR              write DIR/run.yaml and DIR/merge.yaml
`;

export function Render(values) {
  const fill = (file) => {
    let text = readFileSync(join(here, file), "utf8");
    // ${ARGS}, ${PLATFORM_ARGS}: one argument per line, at the placeholder's indentation.
    text = text.replace(/^( *)\$\{((?:PLATFORM_)?ARGS)\}$/gm, (_, indent, name) => values[name].map((a) => indent + a).join("\n"));
    text = text.replace(/\$\{([A-Z_]+)\}/g, (whole, name) => {
      if (!(name in values)) throw new Error(`${file}: no value for ${whole}`);
      return String(values[name]);
    });
    return text;
  };
  if (values.PLATFORM_ARGS.length === 0) {
    return { run: ["configmap.yaml", "results-pvc.yaml", "shards-job.yaml"].map(fill).join("---\n"), merge: fill("merge-job.yaml") };
  }
  return {
    platform: ["configmap.yaml", "results-pvc.yaml", "platform-job.yaml"].map(fill).join("---\n"),
    run: fill("shards-job.yaml"),
    merge: fill("merge-job.yaml"),
  };
}

// The values a command line gives; throws Error with a one-line reason.
export function Values(argv) {
  const opts = { shards: "4", "args-file": join(here, "scenario.args"), cpu: "2", "storage-class": "nfs" };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    if (!argv[i].startsWith("--") || !["image", "start-at", "shards", "args-file", "cpu", "storage-class", "out"].includes(name)) {
      throw new Error(`unknown option '${argv[i]}' (see --help)`);
    }
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    opts[name] = argv[i + 1];
  }
  if (!opts.image) throw new Error("--image is required");
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(opts["start-at"] ?? "")) {
    throw new Error(`--start-at takes UTC RFC 3339 (2026-12-03T20:30:00Z), not '${opts["start-at"] ?? ""}'`);
  }
  const shards = Number(opts.shards);
  if (!Number.isInteger(shards) || shards < 1 || shards > 1000) throw new Error(`--shards must be 1..1000, not '${opts.shards}'`);
  let args;
  try {
    args = readFileSync(opts["args-file"], "utf8").split("\n").filter((l) => l.length > 0);
  } catch (e) {
    throw new Error(`cannot read ${opts["args-file"]}`);
  }
  for (const own of ["--shard", "--start-at", "--out", "--platform"]) {
    if (args.includes(own)) throw new Error(`${opts["args-file"]}: ${own} is the Job's to set, per pod`);
  }
  if (args.length === 0) throw new Error(`${opts["args-file"]} is empty`);
  // A scenario's shards load one platform: `scenario platform` with the scenario, profile
  // and seed the shards run, its state on the results volume.
  let platform = [];
  if (args[0] === "scenario" && args[1] === "run") {
    if (args.length < 3 || args[2].startsWith("--")) throw new Error(`${opts["args-file"]}: scenario run needs its NAME`);
    platform = ["scenario", "platform", args[2]];
    for (const [i, a] of args.entries()) {
      if (a === "--profile" || a === "--seed") platform.push(a, args[i + 1] ?? "");
      if (a === "--allow-remote-writes") platform.push(a);
    }
    args = [...args, "--platform", "/results/platform.json"];
  }
  return {
    out: opts.out,
    values: { SHARDS: shards, START_AT: opts["start-at"], IMAGE: opts.image, CPU: opts.cpu, STORAGE_CLASS: opts["storage-class"], ARGS: args,
              PLATFORM_ARGS: platform },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    const { out, values } = Values(argv);
    const m = Render(values);
    if (out) {
      mkdirSync(out, { recursive: true });
      if (m.platform) writeFileSync(join(out, "platform.yaml"), m.platform);
      writeFileSync(join(out, "run.yaml"), m.run);
      writeFileSync(join(out, "merge.yaml"), m.merge);
      process.stderr.write(`render: wrote ${m.platform ? join(out, "platform.yaml") + ", " : ""}${join(out, "run.yaml")} and ${join(out, "merge.yaml")}\n`);
    } else {
      process.stdout.write((m.platform ? m.platform + "---\n" : "") + m.run + "---\n" + m.merge);
    }
  } catch (e) {
    process.stderr.write(`render: ${e.message}\n`);
    process.exit(2);
  }
}
