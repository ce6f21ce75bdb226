#!/usr/bin/env node
// Offline validation of Kubernetes manifests, without a cluster:
//
//   1. every document against the OpenAPI schema of its apiVersion and kind
//      (kubernetes-models: the Kubernetes 1.33 OpenAPI spec compiled into
//      validate functions), unknown fields refused as the API server's strict
//      field validation refuses them;
//   2. rules the API server enforces that the schema does not state (a
//      container needs an image, a workload's selector must match its pod
//      template, a Job's pods cannot restart Always, ...);
//   3. with --set, the files are one complete set: the ConfigMaps, claims and
//      namespaces they name, and the pods their Services select, are among them;
//   4. with --robofleet, robofleet's own rules for deploy/k8s (labels, one
//      shard count everywhere, no retried shard, one broker).
//
// Usage: validate.mjs [--set] [--robofleet] [--extract DIR] PATH...
//   PATH      a manifest file, or a folder: its *.yaml and *.yml files
//   --extract write each ConfigMap's data to DIR/<name>/<key>, so that the
//             files it carries can be checked by their own tools
// A kustomization.yaml is not a cluster object: the files it lists must exist.
// Each problem is one line, FILE:LINE: document N (Kind namespace/name):
// field: message. Exit status 0 when all is valid, 1 if not, 2 for bad usage.

import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

let YAML;
try {
  YAML = await import("yaml");
} catch (e) {
  console.error(`validate: the npm packages are not installed next to ${process.argv[1]} (${e.code ?? e.message});` +
    " run `npm ci --ignore-scripts` in its folder");
  process.exit(2);
}

// ---------------------------------------------------------------- arguments
const opts = { set: false, robofleet: false, extract: null, paths: [] };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--set") opts.set = true;
    else if (a === "--robofleet") opts.robofleet = opts.set = true;
    else if (a === "--extract" && i + 1 < argv.length) opts.extract = argv[++i];
    else if (a === "-h" || a === "--help") {
      console.log("usage: validate.mjs [--set] [--robofleet] [--extract DIR] PATH...");
      process.exit(0);
    } else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else opts.paths.push(a);
  }
  if (opts.paths.length === 0) usage("no manifest given");
}

function usage(msg) {
  console.error(`validate: ${msg}\nusage: validate.mjs [--set] [--robofleet] [--extract DIR] PATH...`);
  process.exit(2);
}

// ----------------------------------------------------------------- problems
const problems = [];

// One line per problem, with the line of the offending node when the YAML
// still has it (a missing field points at its parent).
function report(doc, field, message) {
  let line = doc.line;
  if (field && doc.ast) {
    const segs = splitField(field);
    for (let n = segs.length; n >= 0; n--) {
      const node = doc.ast.getIn(segs.slice(0, n), true);
      if (node && node.range) {
        line = doc.lines.linePos(node.range[0]).line;
        break;
      }
    }
  }
  const who = doc.kind ? ` (${doc.kind} ${doc.namespace ? doc.namespace + "/" : ""}${doc.name ?? "?"})` : "";
  problems.push({ file: doc.file, line, text: `${doc.file}:${line}: document ${doc.index}${who}: ${field ? field + ": " : ""}${message}` });
}

// "spec.template.spec.containers[0].image" <-> ["spec", ..., 0, "image"]
function splitField(field) {
  const out = [];
  for (const part of field.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    out.push(part.startsWith("[") ? Number(part.slice(1, -1)) : part);
  }
  return out;
}
function fieldOf(segs) {
  let s = "";
  for (const p of segs) s += typeof p === "number" || /^\d+$/.test(p) ? `[${p}]` : (s ? "." : "") + p;
  return s;
}
function pointerSegs(pointer) {
  return pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}
function valueAt(obj, segs) {
  let v = obj;
  for (const s of segs) {
    if (v === null || typeof v !== "object") return undefined;
    v = v[s];
  }
  return v;
}
const show = (v) => (typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : JSON.stringify(v));

// -------------------------------------------------------------------- input
function manifestFiles(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    usage(`${path}: no such file or folder`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

const docs = [];
let filesRead = 0;
let docsRead = 0;
for (const path of opts.paths) {
  for (const file of manifestFiles(path)) {
    filesRead++;
    const text = readFileSync(file, "utf8");
    const lines = new YAML.LineCounter();
    // YAML 1.1, as Kubernetes reads it: an unquoted on/off/yes/no is a
    // boolean there, and a string field given one is an error there too.
    const parsed = YAML.parseAllDocuments(text, { version: "1.1", uniqueKeys: true, lineCounter: lines });
    const list = Array.isArray(parsed) ? parsed : [];
    if (basename(file).match(/^kustomization\.ya?ml$/)) {
      checkKustomization(file, list, lines);
      continue;
    }
    let index = 0;
    for (const ast of list) {
      index++;
      docsRead++;
      const start = ast.contents?.range?.[0] ?? ast.range?.[0] ?? 0;
      const doc = { file, index, ast, lines, line: lines.linePos(start).line };
      if (ast.errors.length) {
        for (const e of ast.errors) {
          const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos?.[0] ?? 0).line;
          const msg = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
          problems.push({ file, line, text: `${file}:${line}: document ${index}: YAML: ${msg}` });
        }
        continue;
      }
      const obj = ast.toJS({ maxAliasCount: 100 });
      if (obj === null || obj === undefined) continue; // an empty document between two ---
      doc.obj = obj;
      if (typeof obj !== "object" || Array.isArray(obj)) {
        report(doc, "", "a manifest must be a mapping with apiVersion and kind");
        continue;
      }
      doc.kind = typeof obj.kind === "string" ? obj.kind : undefined;
      doc.name = obj.metadata?.name;
      doc.namespace = obj.metadata?.namespace;
      if (typeof obj.apiVersion !== "string" || !doc.kind) {
        report(doc, typeof obj.apiVersion !== "string" ? "apiVersion" : "kind", "required field is missing");
        continue;
      }
      docs.push(doc);
    }
  }
}

function checkKustomization(file, list, lines) {
  const k = list[0]?.errors?.length ? null : list[0]?.toJS();
  if (!k || typeof k !== "object") {
    problems.push({ file, line: 1, text: `${file}:1: not a kustomization` });
    return;
  }
  for (const key of ["resources", "components"]) {
    for (const [i, r] of (k[key] ?? []).entries()) {
      if (typeof r === "string" && !/^[a-z]+:\/\//.test(r) && !existsSync(resolve(dirname(file), r))) {
        const node = list[0].getIn([key, i], true);
        const line = node?.range ? lines.linePos(node.range[0]).line : 1;
        problems.push({ file, line, text: `${file}:${line}: ${key}[${i}]: ${r} does not exist` });
      }
    }
  }
}

// -------------------------------------------------------- 1. the schemas
const models = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion} ${kind}`;
  if (models.has(key)) return models.get(key);
  let model = null;
  // Only well-formed names reach the module loader.
  if (/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) && /^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    try {
      const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
      const m = mod[kind];
      // The same folders hold the objects' parts (JobSpec, ...): only a
      // top-level kind carries its own apiVersion and kind.
      if (m && m.apiVersion === apiVersion && m.kind === kind) model = m;
    } catch (e) {
      if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && e.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  models.set(key, model);
  return model;
}

// The compiled validators read each property the schema defines, and list
// the keys of maps (labels, data, resource lists); watching what they touch
// tells the fields that no schema knows, which the API server refuses.
function tracker() {
  const seen = new WeakMap(); // target -> { accessed: Set, open: bool }
  const proxies = new WeakMap();
  function wrap(value) {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const info = { accessed: new Set(), open: false };
    seen.set(value, info);
    const p = new Proxy(value, {
      get(t, k, r) {
        if (typeof k === "string") info.accessed.add(k);
        return wrap(Reflect.get(t, k, r));
      },
      has(t, k) {
        if (typeof k === "string") info.accessed.add(k);
        return Reflect.has(t, k);
      },
      ownKeys(t) {
        info.open = true;
        return Reflect.ownKeys(t);
      },
    });
    proxies.set(value, p);
    return p;
  }
  function unknownFields(obj, segs = [], out = []) {
    if (obj === null || typeof obj !== "object") return out;
    if (Array.isArray(obj)) {
      obj.forEach((v, i) => unknownFields(v, [...segs, i], out));
      return out;
    }
    const info = seen.get(obj);
    // Not reached, a map, or an object the schema leaves free: no verdict.
    const judged = info && !info.open && info.accessed.size > 0;
    for (const k of Object.keys(obj)) {
      if (judged && !info.accessed.has(k)) out.push([...segs, k]);
      else unknownFields(obj[k], [...segs, k], out);
    }
    return out;
  }
  return { wrap, unknownFields };
}

function schemaMessages(errors, obj) {
  const byPath = new Map();
  for (const e of errors) {
    let segs = pointerSegs(e.instancePath ?? "");
    let msg;
    switch (e.keyword) {
      case "required":
        segs = [...segs, e.params.missingProperty];
        msg = "required field is missing";
        break;
      case "enum":
        msg = `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}, not ${show(valueAt(obj, segs))}`;
        break;
      case "type": {
        const v = valueAt(obj, segs);
        msg = `must be ${e.params.type}, not ${show(v)}`;
        // YAML 1.1 reads an unquoted on/off/yes/no/true/false as a boolean.
        if (e.params.type === "string" && typeof v === "boolean") msg += " (quote it to make it a string)";
        break;
      }
      case "format":
        msg = e.params.format === "quantity"
          ? `must be a quantity such as 500m, 2 or 1Gi, not ${show(valueAt(obj, segs))}`
          : `must be a ${e.params.format}, not ${show(valueAt(obj, segs))}`;
        break;
      case "oneOf":
      case "anyOf":
        msg = null; // its branches' own messages say it
        break;
      default:
        msg = e.message;
    }
    const f = fieldOf(segs);
    if (!byPath.has(f)) byPath.set(f, []);
    if (msg && !byPath.get(f).includes(msg)) byPath.get(f).push(msg);
  }
  return [...byPath].map(([f, msgs]) => {
    // A quantity's schema is "a number, or a string of the quantity format":
    // the format's message says both.
    const q = msgs.find((m) => m.startsWith("must be a quantity"));
    return [f, q ?? (msgs.length ? msgs.join(" or ") : "does not match its schema")];
  });
}

for (const doc of docs) {
  const model = await modelFor(doc.obj.apiVersion, doc.kind);
  if (!model) {
    report(doc, "kind", `no schema for apiVersion ${doc.obj.apiVersion} kind ${doc.kind} in Kubernetes 1.33` +
      " (a typo, or a custom resource this validator cannot know)");
    continue;
  }
  doc.known = true;
  const t = tracker();
  try {
    model.prototype.validate.call(t.wrap(doc.obj));
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const [f, msg] of schemaMessages(e.errors, doc.obj)) report(doc, f, msg);
  }
  for (const segs of t.unknownFields(doc.obj)) report(doc, fieldOf(segs), "unknown field");
}

// ------------------------------------------- 2. what the API server checks
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CLUSTER_SCOPED = new Set(["Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole",
  "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass",
  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CSIDriver", "VolumeAttachment"]);
const WORKLOADS = new Set(["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"]);

// Where a kind keeps its pod template: [field of the pod's metadata, of its spec].
function podTemplates(doc) {
  const o = doc.obj;
  if (doc.kind === "Pod") return [{ meta: o.metadata, spec: o.spec, at: "spec", metaAt: "metadata" }];
  if (WORKLOADS.has(doc.kind) || doc.kind === "Job")
    return [{ meta: o.spec?.template?.metadata, spec: o.spec?.template?.spec, at: "spec.template.spec", metaAt: "spec.template.metadata" }];
  if (doc.kind === "CronJob")
    return [{ meta: o.spec?.jobTemplate?.spec?.template?.metadata, spec: o.spec?.jobTemplate?.spec?.template?.spec,
      at: "spec.jobTemplate.spec.template.spec", metaAt: "spec.jobTemplate.spec.template.metadata" }];
  return [];
}
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v) => (Array.isArray(v) ? v : []);

function checkLabels(doc, labels, at) {
  if (!isObj(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf("/");
    const prefix = slash >= 0 ? k.slice(0, slash) : null;
    const name = k.slice(slash + 1);
    if ((prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || name.length > 63 || !LABEL_NAME.test(name))
      report(doc, `${at}.${k}`, "not a valid label key");
    if (typeof v === "string" && (v.length > 63 || !LABEL_VALUE.test(v)))
      report(doc, `${at}.${k}`, `label value ${JSON.stringify(v)} is not valid (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)`);
  }
}

function checkPodSpec(doc, spec, at, claimTemplates = []) {
  if (!isObj(spec)) return;
  // A StatefulSet's claim templates are volumes of its pods too.
  const volumes = new Set(claimTemplates.map((c) => c?.metadata?.name).filter((n) => typeof n === "string"));
  for (const [i, v] of list(spec.volumes).entries()) {
    if (typeof v?.name !== "string") continue;
    if (volumes.has(v.name)) report(doc, `${at}.volumes[${i}].name`, `duplicate volume name ${JSON.stringify(v.name)}`);
    if (!DNS_LABEL.test(v.name) || v.name.length > 63) report(doc, `${at}.volumes[${i}].name`, "must be a DNS-1123 label");
    volumes.add(v.name);
  }
  const names = new Set();
  for (const group of ["initContainers", "containers"]) {
    if (group === "containers" && list(spec.containers).length === 0) report(doc, `${at}.containers`, "a pod needs at least one container");
    for (const [i, c] of list(spec[group]).entries()) {
      const cat = `${at}.${group}[${i}]`;
      if (!isObj(c)) continue;
      if (typeof c.image !== "string" || c.image.trim() === "") report(doc, `${cat}.image`, "required field is missing: every container needs an image");
      if (typeof c.name === "string") {
        if (names.has(c.name)) report(doc, `${cat}.name`, `duplicate container name ${JSON.stringify(c.name)}`);
        if (!DNS_LABEL.test(c.name) || c.name.length > 63) report(doc, `${cat}.name`, "must be a DNS-1123 label");
        names.add(c.name);
      }
      for (const [j, m] of list(c.volumeMounts).entries())
        if (typeof m?.name === "string" && !volumes.has(m.name))
          report(doc, `${cat}.volumeMounts[${j}].name`, `no volume named ${JSON.stringify(m.name)} in the pod`);
    }
  }
}

for (const doc of docs.filter((d) => d.known)) {
  const o = doc.obj;
  const meta = isObj(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== "string" && typeof meta.generateName !== "string") {
    report(doc, "metadata.name", "required field is missing");
  } else if (typeof meta.name === "string") {
    const label = doc.kind === "Service" ? DNS1035_LABEL : DNS_LABEL;
    if (doc.kind === "Service" || doc.kind === "Namespace" || doc.kind === "Job") {
      // A Job's name becomes a label value of its pods: at most 63 too.
      if (meta.name.length > 63 || !(doc.kind === "Job" ? DNS_SUBDOMAIN : label).test(meta.name))
        report(doc, "metadata.name", `${JSON.stringify(meta.name)} must be a DNS label of at most 63 characters`);
    } else if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
      report(doc, "metadata.name", `${JSON.stringify(meta.name)} must be a lowercase DNS subdomain`);
    }
  }
  if (CLUSTER_SCOPED.has(doc.kind) && meta.namespace !== undefined)
    report(doc, "metadata.namespace", `a ${doc.kind} belongs to no namespace`);
  checkLabels(doc, meta.labels, "metadata.labels");

  for (const t of podTemplates(doc)) {
    checkLabels(doc, t.meta?.labels, `${t.metaAt}.labels`);
    checkPodSpec(doc, t.spec, t.at, doc.kind === "StatefulSet" ? list(o.spec?.volumeClaimTemplates) : []);
  }
  if (WORKLOADS.has(doc.kind)) {
    const sel = o.spec?.selector?.matchLabels;
    const labels = o.spec?.template?.metadata?.labels ?? {};
    if (isObj(sel)) {
      for (const [k, v] of Object.entries(sel))
        if (labels[k] !== v) report(doc, "spec.selector.matchLabels", `selector does not match the template's labels (${k}=${v})`);
    }
  }
  if (doc.kind === "Job" || doc.kind === "CronJob") {
    const spec = doc.kind === "Job" ? o.spec : o.spec?.jobTemplate?.spec;
    const at = doc.kind === "Job" ? "spec" : "spec.jobTemplate.spec";
    const rp = spec?.template?.spec?.restartPolicy;
    if (rp !== "Never" && rp !== "OnFailure")
      report(doc, `${at}.template.spec.restartPolicy`, `a Job's pods must restart Never or OnFailure, not ${show(rp)}`);
    if (spec?.completionMode === "Indexed" && spec?.completions === undefined)
      report(doc, `${at}.completions`, "required field is missing: an Indexed Job needs completions");
    if (spec?.backoffLimitPerIndex !== undefined && spec?.completionMode !== "Indexed")
      report(doc, `${at}.backoffLimitPerIndex`, "only for completionMode Indexed");
  }
  if (doc.kind === "ConfigMap" || doc.kind === "Secret") {
    for (const field of ["data", "binaryData", "stringData"])
      for (const k of Object.keys(isObj(o[field]) ? o[field] : {}))
        if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) report(doc, `${field}.${k}`, "not a valid key (A-Z a-z 0-9 - _ .)");
  }
}

// ----------------------------------------------------- 3. one complete set
const nsOf = (d) => (CLUSTER_SCOPED.has(d.kind) ? "" : d.namespace ?? "default");
const find = (kind, ns, name) => docs.find((d) => d.known && d.kind === kind && nsOf(d) === ns && d.name === name);

if (opts.set) {
  const namespaces = docs.filter((d) => d.kind === "Namespace").map((d) => d.name);
  for (const doc of docs.filter((d) => d.known)) {
    const ns = nsOf(doc);
    if (namespaces.length && ns && !namespaces.includes(ns))
      report(doc, "metadata.namespace", `namespace ${JSON.stringify(ns)} is not among the set's Namespaces (${namespaces.join(", ")})`);
    for (const t of podTemplates(doc)) {
      const spec = isObj(t.spec) ? t.spec : {};
      const needConfigMap = (name, optional, at, key) => {
        if (optional || typeof name !== "string") return;
        const cm = find("ConfigMap", ns, name);
        if (!cm) return report(doc, at, `no ConfigMap ${ns}/${name} in the set`);
        if (key !== undefined && !(key in (cm.obj.data ?? {})) && !(key in (cm.obj.binaryData ?? {})))
          report(doc, at, `ConfigMap ${ns}/${name} has no key ${JSON.stringify(key)}`);
      };
      for (const [i, v] of list(spec.volumes).entries()) {
        if (isObj(v.configMap)) {
          needConfigMap(v.configMap.name, v.configMap.optional, `${t.at}.volumes[${i}].configMap.name`);
          for (const [j, it] of list(v.configMap.items).entries())
            needConfigMap(v.configMap.name, v.configMap.optional, `${t.at}.volumes[${i}].configMap.items[${j}].key`, it?.key);
        }
        const claim = v.persistentVolumeClaim?.claimName;
        if (typeof claim === "string" && !find("PersistentVolumeClaim", ns, claim))
          report(doc, `${t.at}.volumes[${i}].persistentVolumeClaim.claimName`, `no PersistentVolumeClaim ${ns}/${claim} in the set`);
      }
      for (const group of ["initContainers", "containers"]) {
        for (const [i, c] of list(spec[group]).entries()) {
          for (const [j, e] of list(c?.envFrom).entries())
            if (isObj(e.configMapRef)) needConfigMap(e.configMapRef.name, e.configMapRef.optional, `${t.at}.${group}[${i}].envFrom[${j}].configMapRef.name`);
          for (const [j, e] of list(c?.env).entries()) {
            const r = e?.valueFrom?.configMapKeyRef;
            if (isObj(r)) needConfigMap(r.name, r.optional, `${t.at}.${group}[${i}].env[${j}].valueFrom.configMapKeyRef`, r.key);
          }
        }
      }
    }
    if (doc.kind === "Service" && isObj(doc.obj.spec?.selector) && Object.keys(doc.obj.spec.selector).length) {
      const sel = Object.entries(doc.obj.spec.selector);
      const match = docs.some((d) => d.known && nsOf(d) === ns &&
        podTemplates(d).some((t) => sel.every(([k, v]) => t.meta?.labels?.[k] === v)));
      if (!match) report(doc, "spec.selector", "selects no pod template in the set: the Service would have no endpoints");
    }
  }
}

// ------------------------------------------------------ 4. robofleet's rules
const L = "app.kubernetes.io/";
function envValue(doc, container, name) {
  for (const e of list(container?.env)) if (e?.name === name && typeof e.value === "string") return e.value;
  for (const e of list(container?.envFrom)) {
    const prefix = e?.prefix ?? "";
    const cm = isObj(e?.configMapRef) ? find("ConfigMap", nsOf(doc), e.configMapRef.name) : null;
    const v = name.startsWith(prefix) ? cm?.obj?.data?.[name.slice(prefix.length)] : undefined;
    if (typeof v === "string") return v;
  }
  return undefined;
}

if (opts.robofleet) {
  const images = new Map();
  for (const doc of docs.filter((d) => d.known)) {
    const o = doc.obj;
    const labels = o.metadata?.labels ?? {};
    for (const [k, want] of [["name", "robofleet"], ["part-of", "robofleet"]])
      if (labels[L + k] !== want) report(doc, `metadata.labels`, `needs ${L}${k}: ${want}`);
    if (typeof labels[L + "component"] !== "string" || !labels[L + "component"])
      report(doc, "metadata.labels", `needs ${L}component`);
    const component = labels[L + "component"];
    for (const t of podTemplates(doc)) {
      for (const k of ["name", "part-of", "component"])
        if (t.meta?.labels?.[L + k] !== labels[L + k]) report(doc, `${t.metaAt}.labels`, `needs ${L}${k}: ${labels[L + k]} as its object has`);
      for (const [i, c] of list(t.spec?.containers).entries())
        if (typeof c?.image === "string" && /(^|\/)robofleet(:|@|$)/.test(c.image)) images.set(`${doc.file}:${doc.index}:${i}`, [doc, `${t.at}.containers[${i}].image`, c.image]);
    }
    if (doc.kind === "Job" && (component === "shard" || component === "merge")) {
      const s = o.spec ?? {};
      if (s.backoffLimit !== 0)
        report(doc, "spec.backoffLimit", `must be 0: a retried ${component} would ${component === "shard" ? "miss the shards' common start" : "merge the same directories again"}`);
      const shards = envValue(doc, s.template?.spec?.containers?.[0], "SHARDS");
      if (shards === undefined) report(doc, "spec.template.spec.containers[0].env", "SHARDS is not set");
      doc.shards = shards;
      if (component === "shard") {
        if (s.completionMode !== "Indexed") report(doc, "spec.completionMode", "must be Indexed: JOB_COMPLETION_INDEX is the shard's index");
        if (s.parallelism !== s.completions)
          report(doc, "spec.parallelism", `must equal completions (${s.completions}): every shard runs at once, from one common start`);
        if (shards !== undefined && String(s.completions) !== shards)
          report(doc, "spec.completions", `${s.completions} differs from SHARDS ${shards}`);
        if (s.backoffLimitPerIndex !== undefined) report(doc, "spec.backoffLimitPerIndex", "a retried shard would miss the common start");
      }
    }
    if (doc.kind === "Deployment" && component === "broker") {
      if ((o.spec?.replicas ?? 1) !== 1) report(doc, "spec.replicas", "must be 1: two brokers would split the fleet");
      if (o.spec?.strategy?.type !== "Recreate")
        report(doc, "spec.strategy.type", "must be Recreate: a rolling update runs two brokers at once");
    }
  }
  const shardCounts = new Set(docs.filter((d) => d.shards !== undefined).map((d) => d.shards));
  if (shardCounts.size > 1)
    for (const d of docs.filter((d) => d.shards !== undefined))
      report(d, "spec.template.spec.containers[0].env", `SHARDS ${d.shards}: the Jobs disagree (${[...shardCounts].join(", ")})`);
  const distinct = new Set([...images.values()].map(([, , img]) => img));
  if (distinct.size > 1)
    for (const [doc, at, img] of images.values()) report(doc, at, `${img}: every robofleet container must run the same image (${[...distinct].join(", ")})`);
}

// ------------------------------------------------------------------ extract
if (opts.extract) {
  for (const doc of docs.filter((d) => d.kind === "ConfigMap" && typeof d.name === "string")) {
    for (const [k, v] of Object.entries(isObj(doc.obj.data) ? doc.obj.data : {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k === ".." || !DNS_SUBDOMAIN.test(doc.name)) continue;
      mkdirSync(join(opts.extract, doc.name), { recursive: true });
      writeFileSync(join(opts.extract, doc.name, k), String(v));
    }
  }
}

// In file order, then line order, whichever check found them.
const fileOrder = new Map();
for (const p of problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
problems.sort((a, b) => a.file === b.file ? a.line - b.line : fileOrder.get(a.file) - fileOrder.get(b.file));
for (const p of problems) console.log(p.text);
const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
if (problems.length) {
  console.log(`validate: ${count(problems.length, "problem")} in ${count(docsRead, "document")} of ${count(filesRead, "file")}`);
  process.exit(1);
}
console.log(`validate: ${count(docsRead, "document")} in ${count(filesRead, "file")} valid against Kubernetes 1.33`);
