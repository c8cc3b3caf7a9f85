#!/usr/bin/env python3
"""praxiskern — the appliance's host-side command (/usr/local/bin/praxiskern on the server).

    praxiskern install BUNDLE                  first install (the playbook): verify, load, place files
    praxiskern update BUNDLE [--check] [--force --reason TEXT] [--gate-timeout SECONDS]
    praxiskern rollback [--yes]                back to the release before the last update
    praxiskern version [--json]                installed release (host state)
    praxiskern verify BUNDLE                   check signature and manifest only
    praxiskern ANYTHING ELSE …                 forwarded to `compose exec app praxiskern …`

Python 3 standard library only: it runs outside the containers it replaces (the server has
python3 for Ansible, no Node). Release bundles are verified with OpenSSH (`ssh-keygen -Y verify`,
namespace praxiskern-release) against the allowed-signers file pinned at install. Every step of
an update is written to a journal (state/update-journal.json, fsync'd) before and after it runs,
so a run killed at any point is finished by rolling back on the next `update` or `rollback`.
docs/update.md is the runbook.

Test hook: PRAXISKERN_UPDATE_PAUSE_AT=PHASE makes `update` stop at PHASE (after writing the
journal), create state/paused-at-PHASE and sleep, so a test can kill -9 it there.
"""
import datetime
import difflib
import fcntl
import getpass
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import uuid

FORMAT = "praxiskern-release/1"
NAMESPACE = "praxiskern-release"
PRINCIPAL = "praxiskern-release"
IMAGE_NAMES = ("app", "postgres", "proxy")
COMPOSE_FILES = ("compose.yaml", "auto-unseal.yaml", ".env.example")
VERSION_RE = re.compile(r"^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:-([0-9A-Za-z][0-9A-Za-z.-]{0,63}))?$")
MIGRATION_RE = re.compile(r"^[0-9]{8}_[0-9]{4}_[a-z0-9_]{1,80}$")
SECRET_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
DB = "praxiskern"


class Refused(Exception):
    """One clear line for the administrator; nothing was changed (or everything was rolled back)."""


# ---------------------------------------------------------------- pure parts (unit-tested)

def parse_version(text):
    m = VERSION_RE.match(text or "")
    if not m:
        raise Refused(f'"{text}" is not a release version (MAJOR.MINOR.PATCH[-PRERELEASE])')
    pre = m.group(4)
    # A pre-release sorts before its release; its dot parts compare numerically when numeric.
    pre_key = (1,) if pre is None else (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), pre_key)


def compare_versions(a, b):
    ka, kb = parse_version(a), parse_version(b)
    return (ka > kb) - (ka < kb)


def validate_manifest(m):
    """Returns the manifest when it is a well-formed release manifest, else raises Refused naming the field."""
    def need(cond, field, what):
        if not cond:
            raise Refused(f"bundle manifest: {field} {what}")
    need(isinstance(m, dict), "manifest", "must be a JSON object")
    need(m.get("format") == FORMAT, "format", f'must be "{FORMAT}"')
    need(m.get("product") == "praxiskern", "product", 'must be "praxiskern"')
    need(isinstance(m.get("version"), str) and VERSION_RE.match(m["version"]), "version", "must be MAJOR.MINOR.PATCH[-PRE]")
    mf = m.get("minimumFrom")
    need(mf is None or (isinstance(mf, str) and VERSION_RE.match(mf)), "minimumFrom", "must be null or a version")
    need(isinstance(m.get("createdAt"), str) and len(m["createdAt"]) >= 10, "createdAt", "must be an ISO timestamp")
    migs = m.get("migrations")
    need(isinstance(migs, list) and migs and all(isinstance(x, str) and MIGRATION_RE.match(x) for x in migs), "migrations", "must list migration names")
    need(migs == sorted(migs) and len(set(migs)) == len(migs), "migrations", "must be in order, without duplicates")
    images = m.get("images")
    need(isinstance(images, list) and sorted(i.get("name") for i in images if isinstance(i, dict)) == sorted(IMAGE_NAMES), "images", f"must list {', '.join(IMAGE_NAMES)}")
    for i in images:
        need(set(i) == {"name", "file", "sha256", "imageId"}, f"images[{i.get('name')}]", "must have name, file, sha256, imageId")
        need(i["file"] == f"images/{i['name']}.tar", f"images[{i['name']}].file", f"must be images/{i['name']}.tar")
        need(isinstance(i["sha256"], str) and SHA_RE.match(i["sha256"]), f"images[{i['name']}].sha256", "must be a sha256 hex digest")
        need(isinstance(i["imageId"], str) and re.match(r"^sha256:[0-9a-f]{64}$", i["imageId"]), f"images[{i['name']}].imageId", "must be sha256:…")
    files = m.get("files")
    need(isinstance(files, list) and files, "files", "must list the bundle's files")
    paths = []
    for f in files:
        need(isinstance(f, dict) and set(f) == {"path", "sha256"}, "files[]", "entries must have path and sha256")
        need(f["path"] in [f"compose/{c}" for c in COMPOSE_FILES] + ["RELEASE-NOTES.md"], f"files[{f['path']}]", "is not a file a bundle may carry")
        need(isinstance(f["sha256"], str) and SHA_RE.match(f["sha256"]), f"files[{f['path']}].sha256", "must be a sha256 hex digest")
        paths.append(f["path"])
    need("compose/compose.yaml" in paths and len(set(paths)) == len(paths), "files", "must hold compose/compose.yaml once")
    secrets = m.get("requiredSecrets")
    need(isinstance(secrets, list) and all(isinstance(s, str) and SECRET_RE.match(s) for s in secrets), "requiredSecrets", "must list secret file names")
    need(isinstance(m.get("releaseNotes"), str), "releaseNotes", "must be text")
    return m


def check_upgrade_path(installed, manifest):
    """Raises Refused unless the bundle's version may replace the installed one."""
    to = manifest["version"]
    if installed is None:
        return
    c = compare_versions(to, installed)
    if c == 0:
        raise Refused(f"release {to} is already installed")
    if c < 0:
        raise Refused(f"release {to} is older than the installed {installed}; use `praxiskern rollback` to go back")
    mf = manifest.get("minimumFrom")
    if mf and compare_versions(installed, mf) < 0:
        raise Refused(f"release {to} updates only from {mf} or newer; the installed {installed} must be updated to {mf} first")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_signature(bundle, signers):
    sig = bundle + ".sig"
    if not os.path.isfile(bundle):
        raise Refused(f"bundle {bundle} does not exist")
    if not os.path.isfile(sig):
        raise Refused(f"no signature {sig} next to the bundle")
    if not os.path.isfile(signers):
        raise Refused(f"no pinned release key ({signers}); run the playbook with praxiskern_appliance_release_public_key")
    with open(bundle, "rb") as data:
        r = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", PRINCIPAL, "-n", NAMESPACE, "-s", sig],
                           stdin=data, capture_output=True, text=True)
    if r.returncode != 0:
        raise Refused(f"bundle {os.path.basename(bundle)}: the signature does not verify against the pinned release key")


def extract_bundle(bundle, staging):
    """Extracts a verified bundle into staging (root-only) and checks every file against the signed manifest."""
    if os.path.exists(staging):
        shutil.rmtree(staging)
    os.makedirs(staging, mode=0o700)
    try:
        with tarfile.open(bundle, "r:") as tar:
            members = tar.getmembers()
            for m in members:
                name = os.path.normpath(m.name)
                if name.startswith("/") or name.startswith("..") or not (m.isfile() or m.isdir()):
                    raise Refused(f"bundle holds an unexpected entry {m.name!r}")
            tar.extractall(staging, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(staging)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise Refused(f"bundle {os.path.basename(bundle)} is damaged or truncated ({e})")
    try:
        with open(os.path.join(staging, "manifest.json"), encoding="utf-8") as f:
            manifest = validate_manifest(json.load(f))
    except (OSError, ValueError) as e:
        raise Refused(f"bundle manifest.json is missing or not JSON ({e})")
    expected = {i["file"]: i["sha256"] for i in manifest["images"]}
    expected.update({f["path"]: f["sha256"] for f in manifest["files"]})
    present = set()
    for root, _dirs, names in os.walk(staging):
        for n in names:
            present.add(os.path.relpath(os.path.join(root, n), staging))
    present.discard("manifest.json")
    if present != set(expected):
        extra = sorted(present - set(expected))
        missing = sorted(set(expected) - present)
        raise Refused(f"bundle files do not match its manifest (extra: {extra}, missing: {missing})")
    for rel, digest in sorted(expected.items()):
        if sha256_file(os.path.join(staging, rel)) != digest:
            raise Refused(f"bundle file {rel} does not match its sha256 in the signed manifest")
    return manifest


def pending_migrations(manifest, applied):
    return [m for m in manifest["migrations"] if m not in set(applied)]


def compose_diff(old_dir, new_dir):
    out = []
    for name in COMPOSE_FILES:
        a, b = os.path.join(old_dir, name), os.path.join(new_dir, name)
        la = open(a, encoding="utf-8").read().splitlines(True) if os.path.exists(a) else []
        lb = open(b, encoding="utf-8").read().splitlines(True) if os.path.exists(b) else []
        out.extend(difflib.unified_diff(la, lb, f"installed/{name}", f"bundle/{name}"))
    return "".join(out)


def set_env_version(env_text, version):
    lines = env_text.splitlines()
    out, done = [], False
    for line in lines:
        if line.startswith("PRAXISKERN_VERSION="):
            out.append(f"PRAXISKERN_VERSION={version}")
            done = True
        else:
            out.append(line)
    if not done:
        out.append(f"PRAXISKERN_VERSION={version}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- host state

def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_json_atomic(path, data, mode=0o600):
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_text_atomic(path, text, mode=0o644):
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


class Host:
    def __init__(self, config_path):
        cfg = read_json(config_path)
        if cfg is None:
            raise Refused(f"{config_path} is missing: this server was not installed by the Praxiskern playbook")
        self.dir = cfg["dir"]
        self.compose_cmd = cfg["compose"]
        self.project = cfg.get("project", "praxiskern")
        self.app_port = int(cfg.get("appPort", 8080))
        self.signers = cfg.get("signers", "/etc/praxiskern/release-signers")
        self.uid = int(cfg.get("uid", 10001))
        self.compose_dir = os.path.join(self.dir, "compose")
        self.state = os.path.join(self.dir, "state")
        self.releases = os.path.join(self.state, "releases")
        self.journal_path = os.path.join(self.state, "update-journal.json")
        self.installed_path = os.path.join(self.state, "installed.json")
        self.last_update_path = os.path.join(self.state, "last-update.json")
        self.pending_dir = os.path.join(self.state, "pending-records")
        self.staging = os.path.join(self.state, "staging")
        self.by = os.environ.get("PRAXISKERN_UPDATE_BY") or os.environ.get("SUDO_USER") or getpass.getuser()
        self.quiet = False

    # -- output
    def say(self, text):
        if not self.quiet:
            print(text, flush=True)

    # -- processes
    def compose(self, *args, check=True, capture=True, input_text=None, timeout=None):
        r = subprocess.run([*self.compose_cmd, *args], cwd=self.compose_dir, capture_output=capture, text=True,
                           input=input_text, timeout=timeout)
        if check and r.returncode != 0:
            detail = ((r.stderr or "") + (r.stdout or "")).strip().splitlines()
            why = detail[-1] if detail else str(r.returncode)
            m = re.search(r'service "([a-z-]+)" didn.t complete successfully', why)
            if m:
                # Say why: the last lines the one-shot service (the migration) printed.
                logs = subprocess.run([*self.compose_cmd, "logs", "--no-color", "--tail", "3", m.group(1)], cwd=self.compose_dir,
                                      capture_output=True, text=True).stdout.strip().splitlines()
                why += " (" + " | ".join(line.split("|", 1)[-1].strip() for line in logs[-3:]) + ")"
            raise Refused(f"`{' '.join(self.compose_cmd)} {' '.join(args[:3])}` failed: {why}")
        return r

    def container_cli(self, args, input_text=None, service="worker", timeout=600):
        """praxiskern … in the worker (exec when it runs, else a one-off container)."""
        running = self.compose("ps", "--services", "--filter", "status=running", check=False).stdout.split()
        if service in running:
            return self.compose("exec", "-T", service, "praxiskern", *args, check=False, input_text=input_text, timeout=timeout)
        return self.compose("run", "--rm", "--no-deps", "-T", service, *args, check=False, input_text=input_text, timeout=timeout)

    def psql(self, sql):
        r = self.compose("exec", "-T", "--user", "postgres", "postgres", "psql", "--username=postgres", "--dbname=postgres", "-v", "ON_ERROR_STOP=1",
                         "-tAq", "-c", sql, check=False, timeout=3600)
        if r.returncode != 0:
            raise Refused(f"PostgreSQL refused `{sql.split()[0]} …`: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        return r.stdout.strip()

    # -- state
    def installed(self):
        return read_json(self.installed_path)

    def installed_version(self):
        i = self.installed()
        return i["version"] if i else None

    def read_journal(self):
        return read_json(self.journal_path)

    def write_journal(self, j):
        write_json_atomic(self.journal_path, j)

    def env_path(self):
        return os.path.join(self.compose_dir, ".env")

    def set_version_in_env(self, version):
        with open(self.env_path(), encoding="utf-8") as f:
            text = f.read()
        new = set_env_version(text, version)
        if new != text:
            st = os.stat(self.env_path())
            write_text_atomic(self.env_path(), new, st.st_mode & 0o777)

    def appdata_dir(self):
        r = subprocess.run(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", f"{self.project}_appdata"], capture_output=True, text=True)
        if r.returncode != 0:
            raise Refused("the app data volume does not exist")
        return r.stdout.strip()

    # -- history records (update-record in the worker; kept on disk while it cannot be reached)
    def record(self, rec):
        os.makedirs(self.pending_dir, mode=0o700, exist_ok=True)
        write_json_atomic(os.path.join(self.pending_dir, f"{rec['id']}.json"), rec)
        self.flush_records()

    def flush_records(self):
        if not os.path.isdir(self.pending_dir):
            return
        for name in sorted(os.listdir(self.pending_dir), key=lambda n: os.stat(os.path.join(self.pending_dir, n)).st_mtime):
            path = os.path.join(self.pending_dir, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            try:
                r = self.container_cli(["update-record", "--json-file", "-"], input_text=text, timeout=120)
            except (subprocess.TimeoutExpired, Refused):
                return
            if r.returncode != 0:
                return
            os.remove(path)

    # -- pause hook for tests
    def maybe_pause(self, phase):
        if os.environ.get("PRAXISKERN_UPDATE_PAUSE_AT") == phase:
            open(os.path.join(self.state, f"paused-at-{phase}"), "w").close()
            time.sleep(3600)


# ---------------------------------------------------------------- install / update

def staged_release(host, bundle):
    verify_signature(bundle, host.signers)
    return extract_bundle(bundle, host.staging)


def preflight(host, manifest, bundle_size):
    missing = [s for s in manifest["requiredSecrets"] if not os.path.isfile(os.path.join(host.dir, "secrets", s))]
    if missing:
        raise Refused(f"required secret file(s) missing in {host.dir}/secrets: {', '.join(missing)}")
    st = os.statvfs("/var/lib/docker" if os.path.isdir("/var/lib/docker") else "/")
    free = st.f_bavail * st.f_frsize
    need = 2 * bundle_size + 256 * 1024 * 1024
    if free < need:
        raise Refused(f"not enough free disk for the images and the snapshot: {free // 2**20} MiB free, {need // 2**20} MiB needed")


def load_images(host, manifest):
    for i in manifest["images"]:
        r = subprocess.run(["docker", "load", "--quiet", "--input", os.path.join(host.staging, i["file"])], capture_output=True, text=True)
        if r.returncode != 0:
            raise Refused(f"docker load of the {i['name']} image failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        tag = f"praxiskern/{i['name']}:{manifest['version']}"
        got = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True, text=True).stdout.strip()
        if got != i["imageId"]:
            raise Refused(f"image {tag} loaded with id {got or 'none'}, the manifest says {i['imageId']}")


def keep_release_files(host, manifest):
    """state/releases/<version>/: the release's compose files and manifest (for rollback and --check)."""
    dest = os.path.join(host.releases, manifest["version"])
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp, mode=0o700)
    for name in COMPOSE_FILES:
        src = os.path.join(host.staging, "compose", name)
        if os.path.exists(src):
            shutil.copy2(src, os.path.join(tmp, name))
    notes = os.path.join(host.staging, "RELEASE-NOTES.md")
    if os.path.exists(notes):
        shutil.copy2(notes, os.path.join(tmp, "RELEASE-NOTES.md"))
    write_json_atomic(os.path.join(tmp, "manifest.json"), manifest)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


def place_compose_files(host, version):
    src = os.path.join(host.releases, version)
    for name in COMPOSE_FILES:
        s = os.path.join(src, name)
        if os.path.exists(s):
            with open(s, encoding="utf-8") as f:
                text = f.read()
            d = os.path.join(host.compose_dir, name)
            if not os.path.exists(d) or open(d, encoding="utf-8").read() != text:
                write_text_atomic(d, text, 0o644)
    if os.path.exists(host.env_path()):
        host.set_version_in_env(version)


def cmd_install(host, args):
    """First install (the playbook): verify, load, keep and place the release files, record the version."""
    bundle = args.bundle
    cur = host.installed_version()
    verify_signature(bundle, host.signers)
    if cur is not None:
        # Already installed: the playbook goes through `update` for a newer bundle.
        host.say(f"installed: {cur}")
        return 0
    manifest = extract_bundle(bundle, host.staging)
    os.makedirs(host.releases, mode=0o700, exist_ok=True)
    load_images(host, manifest)
    keep_release_files(host, manifest)
    place_compose_files(host, manifest["version"])
    write_json_atomic(host.installed_path, {"version": manifest["version"], "installedAt": now_iso(), "migrations": manifest["migrations"]})
    shutil.rmtree(host.staging, ignore_errors=True)
    host.say(f"installed release {manifest['version']}")
    return 0


def print_check(host, manifest, cur):
    applied = []
    r = host.container_cli(["migrations", "--json"], timeout=120)
    if r.returncode == 0:
        try:
            applied = json.loads(r.stdout)["applied"]
        except (ValueError, KeyError):
            applied = []
    else:
        applied = (host.installed() or {}).get("migrations", [])
    print(f"update {cur} -> {manifest['version']} (built {manifest['createdAt']}, updates from {manifest.get('minimumFrom') or 'any'})")
    print("\nRelease notes:\n" + manifest["releaseNotes"].strip() + "\n")
    todo = pending_migrations(manifest, applied)
    print("Migrations that would run: " + (", ".join(todo) if todo else "none"))
    print("Images: " + ", ".join(f"praxiskern/{i['name']}:{manifest['version']} ({i['imageId'][7:19]})" for i in manifest["images"]))
    diff = compose_diff(host.compose_dir, os.path.join(host.staging, "compose"))
    print("Compose files: " + ("unchanged" if not diff else "\n" + diff))
    print("Nothing was changed (--check).")


def phase(host, j, name, fn=None):
    """Runs one step of the journal: skipped when done, recorded with its seconds when it completes."""
    if name in j["done"]:
        return
    j["phase"] = name
    host.write_journal(j)
    host.maybe_pause(name)
    started = time.monotonic()
    if fn:
        fn()
    j["phases"][name] = round(time.monotonic() - started, 1)
    j["done"].append(name)
    host.write_journal(j)


def history(j, outcome, detail=None, finished=True):
    return {
        "id": j["id"], "kind": j["kind"], "fromVersion": j["from"], "toVersion": j["to"], "startedAt": j["startedAt"],
        "finishedAt": now_iso() if finished else None, "outcome": outcome, "by": j["by"],
        "durationSeconds": round(time.time() - j["startedEpoch"], 1) if finished else None,
        "detail": " ".join(str(detail).split())[:1000] if detail else None, "forced": j.get("forced", False), "forceReason": j.get("forceReason"),
        "snapshotRestored": j.get("snapshotRestored", False), "phases": j["phases"],
    }


def health_gate(host, expect_migration, timeout, auto_unseal):
    """readyz 200 with the database ok, then update-gate: migrations at expect_migration, smoke query, unsealed."""
    import urllib.request
    deadline = time.monotonic() + timeout
    told = False
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{host.app_port}/readyz", timeout=5) as resp:
                body = json.loads(resp.read().decode())
                ready = resp.status == 200 and body.get("database") == "ok"
        except Exception as e:  # noqa: BLE001 - any failure to answer is "not yet"
            ready, last = False, f"readyz: {e}"
        if ready:
            r = host.container_cli(["update-gate", "--expect-migration", expect_migration, "--json"], timeout=120)
            if r.returncode == 0:
                return
            if r.returncode == 3:
                last = "sealed"
                if not auto_unseal and not told:
                    print(f"unseal now: praxiskern unseal   (the update waits up to {int(deadline - time.monotonic())} s)", flush=True)
                    told = True
            else:
                try:
                    bad = [c for c in json.loads(r.stdout).get("checks", []) if not c.get("ok")]
                    last = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in bad) or r.stdout.strip()
                except ValueError:
                    last = (r.stderr or r.stdout).strip().splitlines()[-1:] or [f"exit {r.returncode}"]
                    last = last[0] if isinstance(last, list) else last
        time.sleep(3)
    raise Refused(f"health gate failed after {timeout} s: {last}")


def auto_unseal_enabled(host):
    try:
        with open(host.env_path(), encoding="utf-8") as f:
            return any(line.startswith("COMPOSE_FILE=") and "auto-unseal.yaml" in line for line in f)
    except OSError:
        return False


def stop_services(host):
    host.compose("stop", "proxy", "app", "worker", check=False, timeout=300)
    # One-off containers of an interrupted run (a migration, a worker command) must not survive either.
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={host.project}",
                          "--filter", "label=com.docker.compose.oneoff=True"], capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def terminate_db_sessions(host, db):
    host.psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()")


def db_exists(host, name):
    return host.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "1"


def clone_database(host, source, target):
    if db_exists(host, target):
        host.psql(f'DROP DATABASE "{target}"')
    for attempt in range(5):
        terminate_db_sessions(host, source)
        try:
            host.psql(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
            return
        except Refused:
            if attempt == 4:
                raise
            time.sleep(1)


def snapshot_appdata(host, ts):
    data = host.appdata_dir()
    snap = os.path.join(os.path.dirname(data), f"preupdate-{ts}")
    tmp = snap + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    # Hard links: blobs are written once, the anchor file is replaced by rename; the erasure ledger
    # is append-only and the newest copy is what a rollback must keep anyway.
    subprocess.run(["cp", "-al", "--", data, tmp], check=True)
    shutil.rmtree(os.path.join(tmp, "run"), ignore_errors=True)
    os.rename(tmp, snap)
    return snap


def restore_appdata(host, j):
    data = host.appdata_dir()
    base = os.path.dirname(data)
    snap = j["appdataSnapshot"]
    failed = os.path.join(base, f"failed-{j['ts']}")
    keep = os.path.join(base, f"ledger-keep-{j['ts']}")
    if not os.path.exists(failed):
        shutil.rmtree(keep, ignore_errors=True)
        if os.path.isdir(os.path.join(data, "ledger")):
            subprocess.run(["cp", "-a", "--", os.path.join(data, "ledger"), keep], check=True)
        os.rename(data, failed)
    if not os.path.isdir(data):
        tmp = data + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["cp", "-al", "--", snap, tmp], check=True)
        os.rename(tmp, data)
    # The newest erasure ledger wins: a rollback never brings an erased patient back.
    if os.path.isdir(keep):
        dest = os.path.join(data, "ledger")
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run(["cp", "-a", "--", keep, dest], check=True)
    marker = os.path.join(data, "erasure-replay.pending")
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"since": now_iso(), "why": f"the rollback of the update to {j['to']}"}) + "\n")
    os.chown(marker, host.uid, host.uid)


def restore_database(host, j):
    clone, failed = j["dbSnapshot"], f"praxiskern_failed_{j['ts']}"
    if not db_exists(host, clone):
        raise Refused(f"the pre-update database copy {clone} is gone; restore from the pre-update backup (docs/update.md)")
    for attempt in range(5):
        if not db_exists(host, DB) or db_exists(host, failed):
            break
        terminate_db_sessions(host, DB)
        try:
            host.psql(f'ALTER DATABASE "{DB}" RENAME TO "{failed}"')
        except Refused:
            if attempt == 4:
                raise
            time.sleep(1)
    # A run killed right after CREATE DATABASE left a complete copy (CREATE DATABASE is atomic).
    if not db_exists(host, DB):
        for attempt in range(5):
            terminate_db_sessions(host, clone)
            try:
                host.psql(f'CREATE DATABASE "{DB}" TEMPLATE "{clone}"')
                break
            except Refused:
                if attempt == 4:
                    raise
                time.sleep(1)
    copy_database_access(host, failed, DB)


def copy_database_access(host, source, target):
    """Owner and database-level grants (CONNECT for the app role …) are not part of a TEMPLATE copy."""
    owner = host.psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{source}'")
    if not owner:
        return
    host.psql(f'ALTER DATABASE "{target}" OWNER TO "{owner}"')
    host.psql(f'REVOKE ALL ON DATABASE "{target}" FROM PUBLIC')
    grants = host.psql(f"SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END || ' ' || a.privilege_type "
                       f"FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = '{source}'")
    for line in grants.splitlines():
        grantee, priv = line.rsplit(" ", 1)
        host.psql(f'GRANT {priv} ON DATABASE "{target}" TO {grantee}')


def roll_back(host, j, reason):
    """Back to j['from']: previous compose files and images; the database copy and app data when migrations had started."""
    j["kind_before"] = j.get("kind_before", j["kind"])
    j["rollbackReason"] = j.get("rollbackReason") or reason
    j["rollingBack"] = True
    host.write_journal(j)
    prev = j["from"]
    restore = bool(j.get("migrationsStarted"))
    phase(host, j, "rb-stop", lambda: stop_services(host))
    phase(host, j, "rb-files", lambda: place_compose_files(host, prev))
    if restore:
        host.compose("up", "-d", "--no-deps", "postgres", timeout=600)
        wait_postgres(host)
        phase(host, j, "rb-db", lambda: restore_database(host, j))
        phase(host, j, "rb-appdata", lambda: restore_appdata(host, j))
        phase(host, j, "rb-replay", lambda: erasure_replay(host))
        j["snapshotRestored"] = True
    write_json_atomic(host.installed_path, {"version": prev, "installedAt": now_iso(),
                                            "migrations": read_json(os.path.join(host.releases, prev, "manifest.json"))["migrations"]})
    phase(host, j, "rb-start", lambda: host.compose("up", "-d", "--no-deps", "app", "worker", timeout=900))
    prev_manifest = read_json(os.path.join(host.releases, prev, "manifest.json"))
    # The release that ran before gets at least 10 minutes (a short --gate-timeout is for the new one).
    phase(host, j, "rb-gate", lambda: health_gate(host, prev_manifest["migrations"][-1], max(j.get("gateTimeout", 900), 600), auto_unseal_enabled(host)))
    phase(host, j, "rb-proxy", lambda: host.compose("up", "-d", timeout=900))


def wait_postgres(host):
    for _ in range(120):
        r = host.compose("exec", "-T", "postgres", "pg_isready", "--quiet", "--host=127.0.0.1", "--username=postgres", check=False)
        if r.returncode == 0:
            return
        time.sleep(1)
    raise Refused("PostgreSQL does not answer")


def erasure_replay(host):
    r = host.compose("run", "--rm", "--no-deps", "-T", "worker", "erasure", "replay", "--json", check=False, timeout=1800)
    if r.returncode != 0:
        raise Refused(f"erasure replay after the rollback failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")


def finish_rollback(host, j, reason):
    """After an update was rolled back: its record, its snapshots, release files and images go; the last good update's stay."""
    host.record(history(j, "rolled_back", reason))
    last = read_json(host.last_update_path)
    keep = last if last and last.get("to") == j["from"] else None
    drop_snapshots(host, keep=keep["ts"] if keep else None)
    if j["to"] != j["from"] and (not keep or j["to"] != keep["from"]):
        shutil.rmtree(os.path.join(host.releases, j["to"]), ignore_errors=True)
    prune_images(host, keep=[j["from"]] + ([keep["from"]] if keep else []))
    os.remove(host.journal_path)


def drop_snapshots(host, keep):
    """Removes update snapshots (database copies, failed databases, app-data copies) except keep's."""
    keep_ts = keep or "-"
    try:
        names = host.psql("SELECT datname FROM pg_database WHERE datname LIKE 'praxiskern_preupdate_%' OR datname LIKE 'praxiskern_failed_%'").split()
        for n in names:
            if not n.endswith(keep_ts):
                host.psql(f'DROP DATABASE IF EXISTS "{n}"')
    except Refused:
        pass
    try:
        base = os.path.dirname(host.appdata_dir())
    except Refused:
        return
    for n in os.listdir(base):
        if re.match(r"^(preupdate|failed|ledger-keep)-", n) and not n.endswith(keep_ts):
            shutil.rmtree(os.path.join(base, n), ignore_errors=True)


def recover(host):
    """Finishes an interrupted update or rollback: back to the release it started from (or its end, when it had passed)."""
    j = host.read_journal()
    if not j:
        return None
    host.say(f"an interrupted {j['kind']} ({j['from']} -> {j['to']}, phase {j['phase']}) is finished first")
    if j["kind"] == "update" and "proxy" in j["done"]:
        complete_update(host, j)
        return "succeeded"
    if j["kind"] == "update" and "stop" not in j["done"] and not j.get("rollingBack"):
        # Nothing was switched: the old release keeps running.
        host.compose("up", "-d", timeout=900)
        host.record(history(j, "failed", f"interrupted in phase {j['phase']} before the switch; nothing changed"))
        os.remove(host.journal_path)
        return "failed"
    reason = j.get("rollbackReason") or f"interrupted in phase {j['phase']}"
    roll_back(host, j, reason)
    if j["kind"] == "rollback":
        finish_requested_rollback(host, j)
    else:
        finish_rollback(host, j, reason)
    host.say(f"recovered: release {j['from']} runs again ({reason})")
    return "rolled_back"


def complete_update(host, j):
    rec = history(j, "succeeded")
    host.record(rec)
    write_json_atomic(host.last_update_path, {"record": rec,
        "from": j["from"], "to": j["to"], "ts": j["ts"], "dbSnapshot": j.get("dbSnapshot"), "appdataSnapshot": j.get("appdataSnapshot"),
        "migrationsRan": bool(j.get("migrationsRan")), "finishedAt": now_iso(),
    })
    drop_snapshots(host, keep=j["ts"])
    prune_images(host, keep=[j["from"], j["to"]])
    for v in os.listdir(host.releases):
        if v not in (j["from"], j["to"]):
            shutil.rmtree(os.path.join(host.releases, v), ignore_errors=True)
    os.remove(host.journal_path)


def prune_images(host, keep):
    out = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True).stdout.split()
    for ref in out:
        repo, _, tag = ref.partition(":")
        if repo in [f"praxiskern/{n}" for n in IMAGE_NAMES] and tag not in keep and VERSION_RE.match(tag):
            subprocess.run(["docker", "image", "rm", ref], capture_output=True)


def cmd_update(host, args):
    recovered = recover(host)
    host.flush_records()
    cur = host.installed_version()
    if cur is None:
        raise Refused("no release is installed here; install with the playbook first")
    verify_signature(args.bundle, host.signers)
    try:
        return update_from_staging(host, args, cur, recovered)
    finally:
        shutil.rmtree(host.staging, ignore_errors=True)


def update_from_staging(host, args, cur, recovered):
    manifest = extract_bundle(args.bundle, host.staging)
    if recovered == "succeeded" and manifest["version"] == cur:
        host.say(f"release {cur} is installed")
        return 0
    check_upgrade_path(cur, manifest)
    for name in ("compose.yaml",):
        r = subprocess.run([*host.compose_cmd, "--env-file", host.env_path(), "-f", os.path.join(host.staging, "compose", name), "config", "--quiet"],
                           cwd=host.compose_dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise Refused(f"the bundle's {name} does not parse with this server's settings: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    preflight(host, manifest, os.path.getsize(args.bundle))
    if args.check:
        print_check(host, manifest, cur)
        shutil.rmtree(host.staging, ignore_errors=True)
        return 0
    if args.force and not (args.reason or "").strip():
        raise Refused("--force needs --reason TEXT (it is recorded in the audit log)")
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    j = {"id": str(uuid.uuid4()), "kind": "update", "from": cur, "to": manifest["version"], "startedAt": now_iso(), "startedEpoch": time.time(),
         "by": host.by, "ts": ts, "phase": "start", "done": [], "phases": {}, "forced": bool(args.force),
         "forceReason": args.reason if args.force else None, "pid": os.getpid(), "gateTimeout": args.gate_timeout,
         "dbSnapshot": f"praxiskern_preupdate_{ts}", "appdataSnapshot": None, "migrationsStarted": False}
    # The pre-update snapshot through the backup hook, before anything changes.
    started = time.monotonic()
    r = host.container_cli(["backup", "run", "--trigger", "pre-update", "--json"], timeout=3600)
    if r.returncode != 0:
        why = ((r.stderr or "") + (r.stdout or "")).strip().splitlines()
        why = why[-1] if why else f"exit {r.returncode}"
        if not args.force:
            host.record(history(j, "refused", f"pre-update snapshot failed: {why}"))
            raise Refused(f"the pre-update snapshot failed ({why}); nothing was changed. Fix the backup target, or --force --reason TEXT")
        j["detail"] = f"pre-update snapshot failed, forced: {why}"
    j["phases"]["backup"] = round(time.monotonic() - started, 1)
    host.write_journal(j)
    try:
        phase(host, j, "load", lambda: load_images(host, manifest))
    except Refused as e:
        host.record(history(j, "refused", str(e)))
        os.remove(host.journal_path)
        raise Refused(f"{e}; nothing was changed")
    phase(host, j, "keep-release", lambda: keep_release_files(host, manifest))
    host.record(history(j, "running", None, finished=False))
    try:
        run_switch(host, j, manifest)
    except (Refused, subprocess.SubprocessError, OSError) as e:
        reason = str(e)
        host.say(f"update to {j['to']} failed: {reason}; rolling back to {j['from']}")
        started = time.monotonic()
        roll_back(host, j, reason)
        finish_rollback(host, j, reason)
        raise Refused(f"update to {j['to']} failed and was rolled back to {j['from']} in {round(time.monotonic() - started)} s: {reason}")
    complete_update(host, j)
    shutil.rmtree(host.staging, ignore_errors=True)
    host.say(f"updated {j['from']} -> {j['to']} in {round(time.time() - j['startedEpoch'])} s ({', '.join(f'{k} {v}s' for k, v in j['phases'].items())})")
    return 0


def run_switch(host, j, manifest):
    phase(host, j, "stop", lambda: stop_services(host))

    def local_snapshot():
        terminate_db_sessions(host, DB)
        clone_database(host, DB, j["dbSnapshot"])
        j["appdataSnapshot"] = snapshot_appdata(host, j["ts"])
    phase(host, j, "local-snapshot", local_snapshot)
    phase(host, j, "install-files", lambda: (place_compose_files(host, j["to"]), write_json_atomic(host.installed_path, {
        "version": j["to"], "installedAt": now_iso(), "migrations": manifest["migrations"]})))

    def migrate():
        j["migrationsStarted"] = True
        j["phase"] = "migrating"
        host.write_journal(j)
        p = subprocess.Popen([*host.compose_cmd, "run", "--rm", "-T", "init"], cwd=host.compose_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        host.maybe_pause("migrating")
        out, _ = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise Refused(f"the migrations failed: {out.strip().splitlines()[-1:] if out else p.returncode}")
        j["migrationsRan"] = True
    phase(host, j, "migrate", migrate)
    phase(host, j, "start", lambda: host.compose("up", "-d", "--no-deps", "app", "worker", timeout=900))
    phase(host, j, "gate", lambda: health_gate(host, manifest["migrations"][-1], j["gateTimeout"], auto_unseal_enabled(host)))
    phase(host, j, "proxy", lambda: host.compose("up", "-d", timeout=900))


def finish_requested_rollback(host, j):
    last = read_json(host.last_update_path) or {}
    if j.get("snapshotRestored") and last.get("record"):
        # The restored database predates the end of the update it undoes: its history row again.
        host.record(last["record"])
    rec = history(j, "succeeded", "rollback requested")
    # The history row of a rollback reads from the release it left to the one it returned to.
    rec["fromVersion"], rec["toVersion"] = j["to"], j["from"]
    host.record(rec)
    drop_snapshots(host, keep=None)
    prune_images(host, keep=[j["from"]])
    shutil.rmtree(os.path.join(host.releases, j["to"]), ignore_errors=True)
    if os.path.exists(host.last_update_path):
        os.remove(host.last_update_path)
    os.remove(host.journal_path)


def cmd_rollback(host, args):
    recovered = recover(host)
    if recovered in ("rolled_back", "failed"):
        return 0
    host.flush_records()
    last = read_json(host.last_update_path)
    cur = host.installed_version()
    if not last or last["to"] != cur:
        raise Refused("there is no update to roll back (the last update's snapshot is gone or another release is installed)")
    if not os.path.isdir(os.path.join(host.releases, last["from"])):
        raise Refused(f"the files of release {last['from']} are no longer on this server")
    if last["migrationsRan"] and not args.yes:
        raise Refused(f"rolling back to {last['from']} restores the database as it was at {last['ts'][:8]}-{last['ts'][8:]} UTC: "
                      "everything written since that update is lost. Repeat with --yes")
    ts = last["ts"]
    j = {"id": str(uuid.uuid4()), "kind": "rollback", "from": last["from"], "to": cur, "startedAt": now_iso(), "startedEpoch": time.time(),
         "by": host.by, "ts": ts, "phase": "start", "done": [], "phases": {}, "forced": False, "forceReason": None, "pid": os.getpid(),
         "gateTimeout": args.gate_timeout, "dbSnapshot": last["dbSnapshot"], "appdataSnapshot": last["appdataSnapshot"],
         "migrationsStarted": bool(last["migrationsRan"])}
    # The history row of a rollback reads from the running release to the one it returns to.
    host.write_journal(j)
    roll_back(host, j, "rollback requested")
    finish_requested_rollback(host, j)
    host.say(f"rolled back {cur} -> {last['from']}" + (" (database and app data as before the update)" if last["migrationsRan"] else ""))
    return 0


def cmd_version(host, args):
    i = host.installed() or {}
    j = host.read_journal()
    info = {"version": i.get("version"), "installedAt": i.get("installedAt"), "interrupted": j and {"kind": j["kind"], "phase": j["phase"]}}
    print(json.dumps(info) if args.json else f"Praxiskern {info['version'] or '(not installed)'}" + (f" — an interrupted {j['kind']} waits (phase {j['phase']}): run praxiskern rollback" if j else ""))
    return 0


def parse(argv):
    import argparse
    p = argparse.ArgumentParser(prog="praxiskern", description="Praxiskern on this server (host side).")
    p.add_argument("--config", default=os.environ.get("PRAXISKERN_HOST_CONFIG", "/etc/praxiskern/host.json"))
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("install")
    i.add_argument("bundle")
    u = sub.add_parser("update")
    u.add_argument("bundle")
    u.add_argument("--check", action="store_true")
    u.add_argument("--force", action="store_true")
    u.add_argument("--reason")
    u.add_argument("--gate-timeout", type=int, default=900)
    r = sub.add_parser("rollback")
    r.add_argument("--yes", action="store_true")
    r.add_argument("--gate-timeout", type=int, default=900)
    v = sub.add_parser("version")
    v.add_argument("--json", action="store_true")
    vf = sub.add_parser("verify")
    vf.add_argument("bundle")
    vf.add_argument("--signers")
    return p.parse_args(argv)


HOST_COMMANDS = {"install", "update", "rollback", "version", "verify"}


def main(argv):
    if argv and argv[0] not in HOST_COMMANDS and not argv[0].startswith("-"):
        cfg = read_json(os.environ.get("PRAXISKERN_HOST_CONFIG", "/etc/praxiskern/host.json"))
        if cfg is None:
            print("praxiskern: this server was not installed by the Praxiskern playbook", file=sys.stderr)
            return 1
        tty = ["-T"] if not sys.stdin.isatty() else []
        return subprocess.call([*cfg["compose"], "exec", *tty, "app", "praxiskern", *argv], cwd=os.path.join(cfg["dir"], "compose"))
    args = parse(argv)
    try:
        if args.cmd == "verify":
            signers = args.signers or (read_json(args.config) or {}).get("signers", "/etc/praxiskern/release-signers")
            verify_signature(args.bundle, signers)
            staging = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"praxiskern-verify-{os.getpid()}")
            try:
                m = extract_bundle(args.bundle, staging)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            print(f"bundle {os.path.basename(args.bundle)}: release {m['version']}, signature and {len(m['images']) + len(m['files'])} files verified")
            return 0
        host = Host(args.config)
        os.makedirs(host.state, mode=0o700, exist_ok=True)
        if args.cmd == "version":
            return cmd_version(host, args)
        lock = open(os.path.join(host.state, "update.lock"), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused("another praxiskern update or rollback is running")
        return {"install": cmd_install, "update": cmd_update, "rollback": cmd_rollback}[args.cmd](host, args)
    except Refused as e:
        print(f"praxiskern: {e}", file=sys.stderr)
        return 1
    except (OSError, subprocess.SubprocessError) as e:
        print(f"praxiskern: {e.__class__.__name__}: {e} (the journal keeps the state; run the command again)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
