#!/usr/bin/python3
"""Strict validation of Kubernetes manifests against the Kubernetes API schema.

    python3 tests/fleet/validate_k8s.py FILE...        validate each file
    python3 tests/fleet/validate_k8s.py --schema-info  name the schema in use

A FILE is YAML (one or more documents separated by ---) or JSON (one object).
Each document must be an object of a kind the schema knows (apiVersion and
kind), and is checked field by field against that kind's model:

  * a field the model does not have, at any depth, is an error naming its
    path (spec.template.spec.containers[0].resourcez);
  * a value of the wrong type is an error (a string where an integer is
    expected, a list where an object is expected, ...); resource quantities
    and int-or-string ports take a number or a string;
  * a required field that is missing (or null) is an error;
  * then the rules the API server applies that a schema cannot say: names
    and labels, Job rules (completionMode, completions of an Indexed Job,
    restartPolicy Never or OnFailure, ...), pod rules (container names,
    images, environment variables and their secretKeyRef, resources, label
    selectors, volumes), and Secret rules (base64 data, key names).

The schema is the one Debian 12 ships in python3-kubernetes (22.6.0, the
Kubernetes 1.22 API): the package's generated model classes
(kubernetes.client.models.V1Job, V1Secret, ...) carry every field's JSON
name and type (attribute_map, openapi_types), and their setters reject a
missing required field under client-side validation. Fields added to the
API after 1.22 are unknown to it and reported as unknown fields.

Output: "ok: FILE: Job/NAME, Secret/NAME" per valid file (exit 0), or one
line per error, "FILE: document N (Kind/name): path: problem" (exit 1; a
file that does not parse, or holds no document, is one such error line).
Exit 2 for a usage error or an unreadable file, 77 ("skipped: ...") when the
schema package is missing and cannot be installed (apt-get, as root; set
VALIDATE_K8S_NO_INSTALL=1 to never try).
"""

import base64
import binascii
import difflib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys

SCHEMA_PACKAGE = "python3-kubernetes"
DEBIAN_PYTHON = "/usr/bin/python3"
EXIT_SKIP = 77


def skip(reason):
    print(f"skipped: {reason}")
    sys.exit(EXIT_SKIP)


def _import_error():
    """None when yaml and the kubernetes client import, else the ImportError."""
    try:
        importlib.import_module("yaml")
        importlib.import_module("kubernetes.client")
    except ImportError as e:
        return e
    return None


def import_schema():
    """Imports yaml and the kubernetes client models, installing the Debian
    packages if they are missing; exits 77 when that cannot be done."""
    first_error = _import_error()
    if first_error is None:
        return
    # The packages live in Debian's Python; another python3 may come first on PATH.
    if (os.path.exists(DEBIAN_PYTHON)
            and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)
            and os.environ.get("VALIDATE_K8S_REEXEC") != "1"):
        os.environ["VALIDATE_K8S_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    packages = ["python3-yaml", SCHEMA_PACKAGE]
    if os.environ.get("VALIDATE_K8S_NO_INSTALL") == "1":
        skip(f"{first_error}; install {' '.join(packages)} (Debian 12) to validate manifests")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        skip(f"{first_error}; {' '.join(packages)} (Debian 12) are needed, and apt-get cannot be run here as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends"] + packages
    print(f"validate_k8s: installing {' '.join(packages)} ({first_error})", file=sys.stderr)
    try:
        ok = subprocess.run(install, env=env, stdout=sys.stderr, timeout=900).returncode == 0
        if not ok:  # the package lists may be missing or stale
            subprocess.run(["apt-get", "update"], env=env, stdout=sys.stderr, timeout=900)
            ok = subprocess.run(install, env=env, stdout=sys.stderr, timeout=900).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as e:
        skip(f"installing {' '.join(packages)} failed: {e}")
    if not ok:
        skip(f"apt-get install {' '.join(packages)} failed")
    importlib.invalidate_caches()
    error = _import_error()
    if error is not None:
        skip(f"{' '.join(packages)} installed but still not importable by {sys.executable}: {error}")


import_schema()

import yaml  # noqa: E402
from kubernetes import client as k8s_client  # noqa: E402
from kubernetes.client import models as k8s_models  # noqa: E402

try:
    from kubernetes.utils.quantity import parse_quantity  # noqa: E402
except ImportError:  # not in every version of the package
    parse_quantity = None


# ---------------------------------------------------------------- the schema

# The package's Configuration, with client-side validation on: the model
# setters then raise ValueError for a required field given None.
_CONFIG = k8s_client.Configuration()
_CONFIG.client_side_validation = True

# The Python models name a Quantity "str" and an IntOrString "object"; the
# API accepts a JSON number or a string for both. These are the fields of
# that type; each entry is checked against the package when the module loads,
# so that a model that changed shape is reported, not silently passed.
QUANTITY_FIELDS = {  # model -> attributes holding one quantity
    "V1EmptyDirVolumeSource": {"size_limit"},
    "V1ResourceFieldSelector": {"divisor"},
}
QUANTITY_MAP_FIELDS = {  # model -> attributes holding a map of resource name to quantity
    "V1ResourceRequirements": {"limits", "requests"},
    "V1PodSpec": {"overhead"},
}
INT_OR_STRING_FIELDS = {
    "V1HTTPGetAction": {"port"},
    "V1TCPSocketAction": {"port"},
    "V1ServicePort": {"target_port"},
    "V1NetworkPolicyPort": {"port"},
    "V1PodDisruptionBudgetSpec": {"min_available", "max_unavailable"},
    "V1RollingUpdateDeployment": {"max_surge", "max_unavailable"},
    "V1RollingUpdateDaemonSet": {"max_surge", "max_unavailable"},
}


def _check_refinements():
    for table, expected in ((QUANTITY_FIELDS, "str"), (QUANTITY_MAP_FIELDS, "dict(str, str)"),
                            (INT_OR_STRING_FIELDS, "object")):
        for model, attrs in table.items():
            cls = getattr(k8s_models, model, None)
            for attr in attrs:
                found = None if cls is None else cls.openapi_types.get(attr)
                if found != expected:
                    raise SystemExit(f"validate_k8s: {SCHEMA_PACKAGE} changed: {model}.{attr} is {found!r}, "
                                     f"expected {expected!r}; update the field tables in {__file__}")


_check_refinements()


def schema_version():
    """'1.22' and '22.6.0', as the package reports them."""
    api = "unknown"
    for line in _CONFIG.to_debug_report().splitlines():
        if line.startswith("Version of the API:"):
            api = line.split(":", 1)[1].strip().replace("release-", "")
    import kubernetes
    return api, getattr(kubernetes, "__version__", "unknown")


API_VERSION = schema_version()[0]
_REQUIRED = {}


def required_attrs(cls):
    """The attributes whose setter rejects None under client-side validation."""
    if cls not in _REQUIRED:
        probe = cls.__new__(cls)
        probe.local_vars_configuration = _CONFIG
        req = set()
        for attr in cls.openapi_types:
            try:
                setattr(probe, attr, None)
            except ValueError:
                req.add(attr)
        _REQUIRED[cls] = req
    return _REQUIRED[cls]


def setter_problem(cls, attr, value):
    """The package's own check of a value (patterns such as base64 for byte
    fields), as a message, or None."""
    probe = cls.__new__(cls)
    probe.local_vars_configuration = _CONFIG
    try:
        setattr(probe, attr, value)
    except (ValueError, TypeError) as e:
        return str(e).replace("`", '"')
    return None


def group_api_class(api_version):
    """'batch/v1' -> 'BatchV1Api', 'v1' -> 'CoreV1Api',
    'rbac.authorization.k8s.io/v1' -> 'RbacAuthorizationV1Api'."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
    else:
        group, version = "core", api_version
    group = re.sub(r"\.k8s\.io$", "", group)
    return "".join(p[:1].upper() + p[1:] for p in group.split(".")) + version[:1].upper() + version[1:] + "Api"


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def resolve_kind(api_version, kind):
    """The model class for apiVersion and kind, or None: the model must exist
    (V1Job) and the API group must serve the kind (BatchV1Api.create_namespaced_job)."""
    if not re.fullmatch(r"(?:[a-z0-9.-]+/)?v\d+(?:(?:alpha|beta)\d+)?", api_version):
        return None
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", kind):
        return None
    version = api_version.split("/")[-1]
    cls = getattr(k8s_models, version[:1].upper() + version[1:] + kind, None)
    api = getattr(k8s_client, group_api_class(api_version), None)
    if cls is None or api is None:
        return None
    s = snake(kind)
    if not (hasattr(api, f"create_namespaced_{s}") or hasattr(api, f"create_{s}")):
        return None
    return cls


# ---------------------------------------------------------------- paths

def p_field(path, name):
    return f"{path}.{name}" if path else name


def p_index(path, i):
    return f"{path}[{i}]"


def p_key(path, key):
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return p_field(path, key)
    return f"{path}[{json.dumps(key)}]"


def describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------- API rules

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
ENV_VAR_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
C_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def dns_subdomain_problem(value):
    if len(value) > 253:
        return f"must be no more than 253 characters (has {len(value)})"
    if not DNS1123_SUBDOMAIN.fullmatch(value):
        return ("must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    return None


def dns_label_problem(value):
    if len(value) > 63:
        return f"must be no more than 63 characters (has {len(value)})"
    if not DNS1123_LABEL.fullmatch(value):
        return "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit"
    return None


def qualified_name_problem(key):
    """A label or annotation key: [prefix/]name."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        p = dns_subdomain_problem(prefix)
        if p:
            return f"prefix part {p}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return f"name part must be no more than 63 characters (has {len(name)})"
    if not QUALIFIED_NAME.fullmatch(name):
        return ("name part must consist of alphanumerics, '-', '_' or '.', "
                "starting and ending with an alphanumeric character")
    return None


def label_value_problem(value):
    if len(value) > 63:
        return f"must be no more than 63 characters (has {len(value)})"
    if not LABEL_VALUE.fullmatch(value):
        return "must be empty or alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character"
    return None


def is_native_resource(name):
    """cpu, memory, ...: unprefixed, or in the kubernetes.io domain; any other is an extended resource."""
    return "/" not in name or "kubernetes.io/" in name


def quantity_value(value):
    """The quantity as a Decimal, or None when it does not parse."""
    if isinstance(value, bool) or parse_quantity is None:
        return None
    try:
        return parse_quantity(value)
    except (ValueError, ArithmeticError, TypeError):
        return None


class Validator:
    """Collects (path, problem) pairs for one document."""

    def __init__(self):
        self.errors = []

    def err(self, path, problem):
        self.errors.append((path or "(document)", problem))

    # -- structure

    def check(self, value, typ, path, owner=None, attr=None):
        """Checks `value` against the package's type string `typ`."""
        if value is None:
            self.err(path, f"null is not allowed here (expected {self.type_words(typ)})")
            return
        if owner and attr in QUANTITY_FIELDS.get(owner, ()):
            self.check_quantity(value, path)
            return
        if owner and attr in QUANTITY_MAP_FIELDS.get(owner, ()):
            if not isinstance(value, dict):
                self.err(path, f"expected an object (resource name to quantity), got {describe(value)}")
                return
            for k, v in value.items():
                self.check_quantity(v, p_key(path, k))
            return
        if owner and attr in INT_OR_STRING_FIELDS.get(owner, ()):
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                self.err(path, f"expected an integer or a string, got {describe(value)}")
            return
        m = re.fullmatch(r"list\[(.*)\]", typ)
        if m:
            if not isinstance(value, list):
                self.err(path, f"expected a list, got {describe(value)}")
                return
            for i, item in enumerate(value):
                self.check(item, m.group(1), p_index(path, i))
            return
        m = re.fullmatch(r"dict\(str, (.*)\)", typ)
        if m:
            if not isinstance(value, dict):
                self.err(path, f"expected an object (map of string to {self.type_words(m.group(1))}), "
                               f"got {describe(value)}")
                return
            for k, v in value.items():
                self.check(v, m.group(1), p_key(path, k))
            return
        if typ == "str":
            if not isinstance(value, str):
                self.err(path, f"expected a string, got {describe(value)}")
        elif typ == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                self.err(path, f"expected an integer, got {describe(value)}")
        elif typ == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.err(path, f"expected a number, got {describe(value)}")
        elif typ == "bool":
            if not isinstance(value, bool):
                self.err(path, f"expected a boolean, got {describe(value)}")
        elif typ in ("datetime", "date"):
            pattern = (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)" if typ == "datetime"
                       else r"\d{4}-\d\d-\d\d")
            if not isinstance(value, str) or not re.fullmatch(pattern, value):
                self.err(path, f"expected an RFC 3339 {'date-time' if typ == 'datetime' else 'date'}, "
                               f"got {describe(value)}")
        elif typ == "object":
            pass  # any JSON value (RawExtension, FieldsV1, ...)
        else:
            cls = getattr(k8s_models, typ, None)
            if cls is None:
                self.err(path, f"the schema names an unknown type {typ!r}")
                return
            self.check_model(value, cls, path)

    def type_words(self, typ):
        words = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
                 "object": "any value", "datetime": "a date-time", "date": "a date"}
        if typ in words:
            return words[typ]
        if typ.startswith("list["):
            return "a list"
        if typ.startswith("dict("):
            return "an object"
        return f"an object ({typ})"

    def check_model(self, value, cls, path):
        if not isinstance(value, dict):
            self.err(path, f"expected an object ({cls.__name__}), got {describe(value)}")
            return
        by_json = {j: a for a, j in cls.attribute_map.items()}
        for key, item in value.items():
            if not isinstance(key, str):
                self.err(path, f"field name {key!r} is not a string")
                continue
            attr = by_json.get(key)
            if attr is None:
                hint = difflib.get_close_matches(key, list(by_json), n=1, cutoff=0.8)
                if not hint:
                    lowered = {j.lower().replace("_", ""): j for j in by_json}
                    k = key.lower().replace("_", "")
                    hint = [lowered[k]] if k in lowered else []
                self.err(p_field(path, key), f"unknown field (not in {cls.__name__} of Kubernetes {API_VERSION}"
                         + (f"; did you mean {json.dumps(hint[0])}?)" if hint else ")"))
                continue
            if item is None:
                continue  # null: the field is unset (checked below if required)
            typ = cls.openapi_types[attr]
            before = len(self.errors)
            self.check(item, typ, p_field(path, key), cls.__name__, attr)
            if len(self.errors) == before and typ in ("str", "int", "bool", "float"):
                problem = setter_problem(cls, attr, item)
                if problem:
                    self.err(p_field(path, key), problem)
        for attr in sorted(required_attrs(cls)):
            key = cls.attribute_map[attr]
            if value.get(key) is None:
                self.err(p_field(path, key), "required field missing")
        hook = getattr(self, "rule_" + cls.__name__, None)
        if hook:
            hook(value, path)

    def check_quantity(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.err(path, f"expected a quantity (a number or a string such as \"500m\" or \"16Gi\"), "
                           f"got {describe(value)}")
            return
        if parse_quantity is not None and quantity_value(value) is None:
            self.err(path, f"{describe(value)} is not a valid quantity (such as 1, \"500m\", \"16Gi\")")

    # -- rules the API server applies (run on a model once its structure was checked)

    @staticmethod
    def get(obj, *keys):
        for k in keys:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(k)
        return obj

    def rule_V1ObjectMeta(self, meta, path):
        for field in ("labels", "annotations"):
            items = meta.get(field)
            if not isinstance(items, dict):
                continue
            for k, v in items.items():
                if not isinstance(k, str):
                    continue
                problem = qualified_name_problem(k)
                if problem:
                    self.err(p_key(p_field(path, field), k), f"invalid {field[:-1]} key: {problem}")
                if field == "labels" and isinstance(v, str):
                    problem = label_value_problem(v)
                    if problem:
                        self.err(p_key(p_field(path, field), k), f"invalid label value {json.dumps(v)}: {problem}")
            if field == "annotations":
                size = sum(len(k) + len(v) for k, v in items.items() if isinstance(k, str) and isinstance(v, str))
                if size > 256 * 1024:
                    self.err(p_field(path, field), f"annotations total {size} bytes, more than 256 KiB")
        ns = meta.get("namespace")
        if isinstance(ns, str):
            problem = dns_label_problem(ns)
            if problem:
                self.err(p_field(path, "namespace"), problem)

    def rule_V1LabelSelector(self, sel, path):
        labels = sel.get("matchLabels")
        if isinstance(labels, dict):
            for k, v in labels.items():
                if isinstance(k, str):
                    problem = qualified_name_problem(k)
                    if problem:
                        self.err(p_key(p_field(path, "matchLabels"), k), f"invalid label key: {problem}")
                if isinstance(v, str):
                    problem = label_value_problem(v)
                    if problem:
                        self.err(p_key(p_field(path, "matchLabels"), k),
                                 f"invalid label value {json.dumps(v)}: {problem}")
        for i, req in enumerate(sel.get("matchExpressions") or []):
            if isinstance(req, dict):
                self.check_requirement(req, p_index(p_field(path, "matchExpressions"), i),
                                       ("In", "NotIn", "Exists", "DoesNotExist"))

    def check_requirement(self, req, path, operators):
        op, values = req.get("operator"), req.get("values") or []
        key = req.get("key")
        if isinstance(key, str):
            problem = qualified_name_problem(key)
            if problem:
                self.err(p_field(path, "key"), f"invalid label key: {problem}")
        if not isinstance(op, str) or not isinstance(values, list):
            return
        if op not in operators:
            self.err(p_field(path, "operator"), f"unsupported value {json.dumps(op)}: one of {', '.join(operators)}")
        elif op in ("In", "NotIn") and not values:
            self.err(p_field(path, "values"), f"must be non-empty when operator is {op}")
        elif op in ("Exists", "DoesNotExist") and values:
            self.err(p_field(path, "values"), f"must be empty when operator is {op}")
        elif op in ("Gt", "Lt") and (len(values) != 1 or not re.fullmatch(r"-?\d+", str(values[0]))):
            self.err(p_field(path, "values"), f"must be a single integer when operator is {op}")

    def rule_V1NodeSelectorRequirement(self, req, path):
        self.check_requirement(req, path, ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"))

    def rule_V1PodAffinityTerm(self, term, path):
        if term.get("topologyKey") == "":
            self.err(p_field(path, "topologyKey"), "must be non-empty")
        elif isinstance(term.get("topologyKey"), str):
            problem = qualified_name_problem(term["topologyKey"])
            if problem:
                self.err(p_field(path, "topologyKey"), f"invalid label key: {problem}")

    def rule_V1WeightedPodAffinityTerm(self, term, path):
        self.check_weight(term, path)

    def rule_V1PreferredSchedulingTerm(self, term, path):
        self.check_weight(term, path)

    def check_weight(self, term, path):
        w = term.get("weight")
        if isinstance(w, int) and not isinstance(w, bool) and not 1 <= w <= 100:
            self.err(p_field(path, "weight"), f"must be from 1 to 100 (is {w})")

    def rule_V1EnvVar(self, env, path):
        name = env.get("name")
        if isinstance(name, str) and not ENV_VAR_NAME.fullmatch(name):
            self.err(p_field(path, "name"), f"invalid environment variable name {json.dumps(name)}: letters, digits, "
                                            "'_', '-' and '.', not starting with a digit")
        source = env.get("valueFrom")
        if source is not None and env.get("value") not in (None, ""):
            self.err(path, "may not have both value and valueFrom")
        if isinstance(source, dict):
            given = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                     if source.get(k) is not None]
            if len(given) != 1:
                self.err(p_field(path, "valueFrom"),
                         "must have exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef"
                         + (f" (has {', '.join(given)})" if given else ""))

    def check_key_ref(self, ref, path, what):
        name, key = ref.get("name"), ref.get("key")
        if name is None or name == "":
            self.err(p_field(path, "name"), f"required: the {what} to read")
        elif isinstance(name, str):
            problem = dns_subdomain_problem(name)
            if problem:
                self.err(p_field(path, "name"), f"invalid {what} name: {problem}")
        if key == "":
            self.err(p_field(path, "key"), "must be non-empty")
        elif isinstance(key, str) and not CONFIG_KEY.fullmatch(key):
            self.err(p_field(path, "key"), "invalid key: letters, digits, '-', '_' and '.'")

    def rule_V1SecretKeySelector(self, ref, path):
        self.check_key_ref(ref, path, "Secret")

    def rule_V1ConfigMapKeySelector(self, ref, path):
        self.check_key_ref(ref, path, "ConfigMap")

    def rule_V1EnvFromSource(self, src, path):
        given = [k for k in ("configMapRef", "secretRef") if src.get(k) is not None]
        if len(given) != 1:
            self.err(path, "must have exactly one of configMapRef, secretRef")
        for k in given:
            if not self.get(src, k, "name"):
                self.err(p_field(p_field(path, k), "name"), "required: the object to read")

    def rule_V1ResourceRequirements(self, res, path):
        limits = res.get("limits") if isinstance(res.get("limits"), dict) else {}
        requests = res.get("requests") if isinstance(res.get("requests"), dict) else {}
        for field, items in (("limits", limits), ("requests", requests)):
            for name, q in items.items():
                at = p_key(p_field(path, field), name)
                if not isinstance(name, str):
                    continue
                problem = qualified_name_problem(name)
                if problem:
                    self.err(at, f"invalid resource name: {problem}")
                    continue
                if "/" not in name and name not in ("cpu", "memory", "ephemeral-storage") \
                        and not name.startswith("hugepages-"):
                    self.err(at, "not a standard resource for containers (cpu, memory, ephemeral-storage, "
                                 "hugepages-*; others need a domain prefix such as nvidia.com/gpu)")
                value = quantity_value(q)
                if value is None:
                    continue
                if value < 0:
                    self.err(at, "must be greater than or equal to 0")
                if not is_native_resource(name) and value != value.to_integral_value():
                    self.err(at, "an extended resource must be a whole number")
        for name, q in requests.items():
            if not isinstance(name, str):
                continue
            at = p_key(p_field(path, "requests"), name)
            req_v = quantity_value(q)
            if not is_native_resource(name):
                lim_v = quantity_value(limits.get(name))
                if name not in limits:
                    self.err(at, "an extended resource's request needs a limit (and must equal it)")
                elif req_v is not None and lim_v is not None and req_v != lim_v:
                    self.err(at, f"must be equal to the limit ({limits[name]}) for an extended resource")
            elif name in limits:
                lim_v = quantity_value(limits[name])
                if req_v is not None and lim_v is not None and req_v > lim_v:
                    self.err(at, f"must be less than or equal to the limit ({limits[name]})")

    def rule_V1ContainerPort(self, port, path):
        for field, low in (("containerPort", 1), ("hostPort", 0)):
            v = port.get(field)
            if isinstance(v, int) and not isinstance(v, bool) and not low <= v <= 65535:
                self.err(p_field(path, field), f"must be from {low} to 65535 (is {v})")
        proto = port.get("protocol")
        if isinstance(proto, str) and proto not in ("TCP", "UDP", "SCTP"):
            self.err(p_field(path, "protocol"), f"unsupported value {json.dumps(proto)}: one of TCP, UDP, SCTP")

    def rule_V1PodSpec(self, spec, path):
        containers = spec.get("containers")
        if isinstance(containers, list) and not containers:
            self.err(p_field(path, "containers"), "must have at least one container")
        names = set()
        volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
        for field in ("initContainers", "containers"):
            items = spec.get(field)
            if not isinstance(items, list):
                continue
            for i, c in enumerate(items):
                if not isinstance(c, dict):
                    continue
                at = p_index(p_field(path, field), i)
                name = c.get("name")
                if isinstance(name, str):
                    problem = dns_label_problem(name)
                    if problem:
                        self.err(p_field(at, "name"), f"invalid container name {json.dumps(name)}: {problem}")
                    elif name in names:
                        self.err(p_field(at, "name"), f"duplicate container name {json.dumps(name)}")
                    names.add(name)
                if not c.get("image"):
                    self.err(p_field(at, "image"), "required field missing (a container needs an image)")
                for j, m in enumerate(c.get("volumeMounts") or []):
                    if isinstance(m, dict) and isinstance(m.get("name"), str) and m["name"] not in volumes:
                        self.err(p_field(p_index(p_field(at, "volumeMounts"), j), "name"),
                                 f"no volume named {json.dumps(m['name'])} in {p_field(path, 'volumes')}")
        seen = set()
        for i, v in enumerate(spec.get("volumes") or []):
            if isinstance(v, dict) and isinstance(v.get("name"), str):
                at = p_field(p_index(p_field(path, "volumes"), i), "name")
                problem = dns_label_problem(v["name"])
                if problem:
                    self.err(at, f"invalid volume name: {problem}")
                elif v["name"] in seen:
                    self.err(at, f"duplicate volume name {json.dumps(v['name'])}")
                seen.add(v["name"])
        policy = spec.get("restartPolicy")
        if isinstance(policy, str) and policy not in ("Always", "OnFailure", "Never"):
            self.err(p_field(path, "restartPolicy"),
                     f"unsupported value {json.dumps(policy)}: one of Always, OnFailure, Never")
        for field in ("terminationGracePeriodSeconds", "activeDeadlineSeconds"):
            v = spec.get(field)
            if isinstance(v, int) and not isinstance(v, bool) and v < (1 if field == "activeDeadlineSeconds" else 0):
                self.err(p_field(path, field), "must be greater than 0" if field == "activeDeadlineSeconds"
                         else "must be greater than or equal to 0")

    # -- whole objects

    def check_metadata_name(self, doc, kind, name_limit=None):
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            if meta is None:
                self.err("metadata.name", "required field missing (or metadata.generateName)")
            return
        name = meta.get("name")
        if name is None:
            if not meta.get("generateName"):
                self.err("metadata.name", "required field missing (or metadata.generateName)")
            return
        if not isinstance(name, str):
            return  # reported as a type error
        problem = dns_subdomain_problem(name)
        if problem:
            self.err("metadata.name", f"invalid name {json.dumps(name)}: {problem}")
        elif name_limit and len(name) > name_limit[0]:
            self.err("metadata.name", f"must be no more than {name_limit[0]} characters ({name_limit[1]})")

    def rule_job(self, doc):
        self.check_metadata_name(doc, "Job", (63, "the Job's name is its pods' job-name label value"))
        spec = doc.get("spec")
        if spec is None:
            self.err("spec", "required field missing (a Job needs spec.template)")
            return
        if not isinstance(spec, dict):
            return
        ints = {k: spec.get(k) for k in ("parallelism", "completions", "backoffLimit",
                                         "activeDeadlineSeconds", "ttlSecondsAfterFinished")}
        ints = {k: v for k, v in ints.items() if isinstance(v, int) and not isinstance(v, bool)}
        for k, v in ints.items():
            if k == "activeDeadlineSeconds" and v <= 0:
                self.err(p_field("spec", k), f"must be greater than 0 (is {v})")
            elif v < 0:
                self.err(p_field("spec", k), f"must be greater than or equal to 0 (is {v})")
        mode = spec.get("completionMode")
        if isinstance(mode, str) and mode not in ("NonIndexed", "Indexed"):
            self.err("spec.completionMode", f"unsupported value {json.dumps(mode)}: one of NonIndexed, Indexed")
        if mode == "Indexed":
            if spec.get("completions") is None:
                self.err("spec.completions", "required when completionMode is Indexed")
            for k in ("completions", "parallelism"):
                if ints.get(k, 0) > 100000:
                    self.err(p_field("spec", k), "must be no more than 100000 when completionMode is Indexed")
        if spec.get("selector") is not None and spec.get("manualSelector") is not True:
            self.err("spec.selector", "must not be set unless spec.manualSelector is true "
                                      "(the Job's selector is generated)")
        template = spec.get("template")
        if not isinstance(template, dict):
            return
        pod = template.get("spec")
        if pod is None:
            self.err("spec.template.spec", "required field missing (the pod to run)")
            return
        if isinstance(pod, dict):
            policy = pod.get("restartPolicy")
            if policy is None:
                self.err("spec.template.spec.restartPolicy",
                         "required for a Job: Never or OnFailure (the default, Always, is not allowed)")
            elif policy == "Always":  # other wrong values: rule_V1PodSpec
                self.err("spec.template.spec.restartPolicy",
                         f"unsupported value {json.dumps(policy)}: a Job's pods restart Never or OnFailure")

    def rule_secret(self, doc):
        self.check_metadata_name(doc, "Secret")
        keys = set()
        total = 0
        for field in ("data", "stringData"):
            items = doc.get(field)
            if not isinstance(items, dict):
                continue
            for k, v in items.items():
                if not isinstance(k, str):
                    continue
                at = p_key(field, k)
                keys.add(k)
                if len(k) > 253 or not CONFIG_KEY.fullmatch(k):
                    self.err(at, "invalid key: letters, digits, '-', '_' and '.' (at most 253)")
                if not isinstance(v, str):
                    continue
                if field == "data":
                    try:
                        total += len(base64.b64decode(v, validate=True))
                    except (binascii.Error, ValueError):
                        self.err(at, "not valid base64 (data holds base64-encoded values; "
                                     "plain text goes in stringData)")
                else:
                    total += len(v.encode())
        if total > 1024 * 1024:
            self.err("data", f"the Secret holds {total} bytes, more than 1 MiB")
        needs = {
            "kubernetes.io/tls": ["tls.crt", "tls.key"],
            "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
            "kubernetes.io/dockercfg": [".dockercfg"],
            "kubernetes.io/ssh-auth": ["ssh-privatekey"],
        }
        typ = doc.get("type")
        for key in needs.get(typ, []):
            if key not in keys:
                self.err("data", f"a Secret of type {typ} needs the key {json.dumps(key)}")
        if typ == "kubernetes.io/basic-auth" and not keys & {"username", "password"}:
            self.err("data", "a Secret of type kubernetes.io/basic-auth needs the key \"username\" or \"password\"")


def validate_document(doc):
    """(label 'Kind/name', [(path, problem)]) for one document."""
    v = Validator()
    if not isinstance(doc, dict):
        v.err("", f"expected an object with apiVersion and kind, got {describe(doc)}")
        return "?/?", v.errors
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else (
        meta["generateName"] + "*" if isinstance(meta.get("generateName"), str) else "?")
    label = f"{kind if isinstance(kind, str) else '?'}/{name}"
    for field, value in (("apiVersion", api_version), ("kind", kind)):
        if value is None:
            v.err(field, "required field missing")
        elif not isinstance(value, str):
            v.err(field, f"expected a string, got {describe(value)}")
    if not (isinstance(kind, str) and isinstance(api_version, str)):
        return label, v.errors
    cls = resolve_kind(api_version, kind)
    if cls is None:
        v.err("apiVersion/kind", f"{api_version} {kind} is not a kind the schema ({SCHEMA_PACKAGE}, "
                                 f"Kubernetes {API_VERSION}) knows")
        return label, v.errors
    v.check_model(doc, cls, "")
    if cls.__name__ == "V1Job":
        v.rule_job(doc)
    elif cls.__name__ == "V1Secret":
        v.rule_secret(doc)
    else:
        v.check_metadata_name(doc, kind)
    return label, v.errors


# ---------------------------------------------------------------- reading files

class ManifestLoader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: unquoted timestamps stay strings, and a key
    given twice in one object is an error (kept in `duplicates`)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str):
                if key in seen:
                    self.duplicates.append((key_node.start_mark.line + 1, key))
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_documents(path):
    """[(document number, document or None, [problems with no path])]; raises
    OSError or ValueError for a file that cannot be read or parsed."""
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        def pairs(items):
            out = {}
            for k, val in items:
                if k in out:
                    raise ValueError(f"duplicate key {json.dumps(k)}")
                out[k] = val
            return out
        return [(1, json.loads(text, object_pairs_hook=pairs), [])]
    with open(path, encoding="utf-8") as f:
        return read_yaml_documents(ManifestLoader(f))  # a file stream: errors name the file


def read_yaml_documents(loader):
    docs = []
    try:
        n = 0
        while loader.check_node():
            node = loader.get_node()
            n += 1
            if node is None:
                continue
            loader.duplicates = []
            doc = loader.construct_document(node)
            problems = [f"line {line}: duplicate key {json.dumps(key)}" for line, key in loader.duplicates]
            if doc is None and not problems:
                continue  # an empty document, as kubectl skips it
            docs.append((n, doc, problems))
    finally:
        loader.dispose()
    return docs


def validate_file(path):
    """(ok labels, error lines) for one file."""
    try:
        docs = read_documents(path)
    except (OSError, UnicodeDecodeError) as e:
        return None, [f"{path}: cannot read: {e}"]
    except (yaml.YAMLError, ValueError) as e:
        return [], [f"{path}: cannot parse: {' '.join(str(e).split())}"]
    if not docs:
        return [], [f"{path}: no documents"]
    labels, errors = [], []
    for n, doc, problems in docs:
        label, doc_errors = validate_document(doc)
        labels.append(label)
        for problem in problems:
            errors.append(f"{path}: document {n} ({label}): (document): {problem}")
        for at, problem in doc_errors:
            errors.append(f"{path}: document {n} ({label}): {at}: {problem}")
    return labels, errors


def main(argv):
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv and argv[0] == "--schema-info":
        import kubernetes
        api, pkg = schema_version()
        count = sum(1 for n in dir(k8s_models) if re.fullmatch(r"V\d\w*", n))
        print(f"schema: {SCHEMA_PACKAGE} {pkg} (Kubernetes API {api}, the models' openapi_types, attribute_map "
              f"and setters), {count} models, "
              f"from {os.path.dirname(kubernetes.__file__)}")
        return 0
    if not argv or any(a.startswith("-") for a in argv):
        print("usage: validate_k8s.py FILE... | --schema-info", file=sys.stderr)
        return 2
    status = 0
    for path in argv:
        labels, errors = validate_file(path)
        if labels is None:
            print(errors[0])
            status = max(status, 2)
        elif errors:
            print("\n".join(errors))
            status = max(status, 1)
        else:
            print(f"ok: {path}: {', '.join(labels)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
