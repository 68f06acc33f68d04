#!/usr/bin/env python3
"""The pipeline-wide soak test (issue 11): a launched pipeline under steady real traffic while
Scripts/soak/attacker.py runs each flood for a bounded time. Run through Scripts/soak.sh.

It launches the echo topology (and the MiniLM one, for the 1 MiB texts, when the model files are
present), each copied into a temporary directory with its ports moved to 5600-5699 and its metrics
to 9500-9599; runs `sealpipe loadtest --rate` against each for the whole time; samples every
process's resident memory (/proc), the key broker's state files and the log files once a second,
scrapes every metrics endpoint, and watches for restarts (a service whose process id changes, or a
launcher line saying it restarts or gives up). At the end it prints one report and exits 1 if any
bound is broken:

  - real jobs: no errors, every job answered (latency is reported, never bounded: the machine is
    shared and timing here proves nothing);
  - memory: every process's peak resident memory (VmHWM) under its ceiling (`CEILINGS_MIB`);
  - the key broker's state: grows by at most `state_bound()` bytes;
  - logs: grow by at most `LOG_BOUND_BYTES_PER_SECOND` a second;
  - restarts: none, and every service still running when the run ends; every metrics scrape answered.
"""
import argparse, json, math, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Peak resident memory each process may reach during the run, in MiB (VmHWM, reset once every
# service is ready, so start-up peaks such as sealing or loading weights do not count), and where
# each figure comes from. docs/security.md, "Soak test", has the same table. A debug build idles
# at 45-60 MiB a process ("64 MiB for the process" below).
CEILINGS_MIB = {
    # The process; what its socket may hold of unfinished requests over all connections
    # (BoundedRouter budget: 16 requests of at most 1 MiB + 4 KiB, KMSLimits); libzmq's queue of
    # raw reads for each of the attacker's 3 connections (64 of 8 KiB); a request in hand and its
    # decoding: within the 160 MiB KeyBrokerFloodTests holds the broker to.
    "kms": 160,
    # The process; what both sockets may hold of unfinished messages over all their connections
    # (BoundedRouter budgets: the backend's 2 × PipelineMessage.maximumHopBytes, 128 MiB, and the
    # front's GatewayService.minimumFrontBudget, 64 MiB); and one whole hop in hand (64 MiB). Both
    # sockets read ZMTP themselves, so a message of 1,000 legal 1 MB frames, or a 300 MiB frame,
    # is let go of as it arrives.
    "gateway": 64 + 128 + 64 + 64,
    # The process; one bundle of maxBatch (32) requests of maxPayload (1 MiB) opened; for a MiniLM
    # encoder, a full batch's attention scores (32 × 12 heads × 256² tokens × 4 bytes = 96 MiB)
    # and hidden states (32 × 256 × 384 × 4 bytes = 12 MiB, four copies), and its weights (at
    # most the 87 MiB model file). One ceiling for every stage, the echo ones included.
    "stage": 64 + 32 + 96 + 48 + 88,
    # The process; it read every shard's weights to seal them at start (the 87 MiB model file),
    # and the allocator keeps that heap.
    "launch": 64 + 88,
}
# Log lines the floods may add: warnings are sampled (one line per class per 10 s in a stage or
# the gateway, a burst of 5 then one per 10 s per kind in the broker), so the logs grow by a few
# lines a second whatever the attacker sends; 2 KiB a second is ample, one line per refused
# request (~4,000 a second) would be ~1 MB a second.
LOG_BOUND_BYTES_PER_SECOND = 2048
# What the broker's state may grow by (KeyBrokerFloodTests.stateGrowthCeiling): every log entry
# the run can cause at under 2 KiB each with its tree head and nodes, plus SQLite's rounding.
REFUSAL_ENTRY_BURST = 32  # KeyBrokerCore.refusalEntryBurst
REFUSAL_ENTRIES_PER_SECOND = 0.2  # KeyBrokerCore.refusalEntriesPerSecond


def state_bound(seconds, releases):
    return (REFUSAL_ENTRY_BURST + math.ceil(REFUSAL_ENTRIES_PER_SECOND * (seconds + 2)) + releases) * 2048 + 65536


def say(message):
    print(f"[soak] {message}", flush=True)


class Pipeline:
    """One `sealpipe launch` of a topology copied into its own directory with moved ports."""

    def __init__(self, name, source, replacements, directory, binary, metrics_base):
        self.name, self.directory, self.metrics_base = name, directory, metrics_base
        os.makedirs(directory)
        text = open(os.path.join(ROOT, "Topologies", source)).read()
        for old, new in replacements:
            if old not in text:
                sys.exit(f"soak: {source} no longer holds {old!r}; update Scripts/soak/soak.py")
            text = text.replace(old, new)
        text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
        stray = re.findall(r"\b(?:5[0-9]{3}|9[0-9]{3})\b", text)
        if any(not (5600 <= int(p) <= 5699 or 9500 <= int(p) <= 9599) for p in stray):
            sys.exit(f"soak: {source}: a port outside 5600-5699/9500-9599 is left: {stray}")
        self.topology = f"{name}.yaml"
        with open(os.path.join(directory, self.topology), "w") as out:
            out.write(text + "\n")
        self.stdout_path = os.path.join(directory, "launch.out")
        self.stderr_path = os.path.join(directory, "launch.err")
        self.process = subprocess.Popen(
            [binary, "launch", self.topology], cwd=directory, stdout=open(self.stdout_path, "wb"),
            stderr=open(self.stderr_path, "wb"), start_new_session=True)

    def wait_ready(self, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in open(self.stdout_path, errors="replace"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("service") == "launch" and event.get("event") == "ready":
                    return event
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        sys.exit(f"soak: {self.name} did not become ready; launcher said:\n"
                 + open(self.stdout_path, errors="replace").read()[-3000:]
                 + open(self.stderr_path, errors="replace").read()[-3000:])

    def services(self):
        """Service name -> pid of every child of the launcher (from SEALPIPE_SERVICE)."""
        found = {}
        pid = self.process.pid
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            return found
        for task in tasks:
            try:
                children = open(f"/proc/{pid}/task/{task}/children").read().split()
            except OSError:
                continue
            for child in children:
                try:
                    environ = open(f"/proc/{child}/environ", "rb").read().split(b"\0")
                except OSError:
                    continue
                for entry in environ:
                    if entry.startswith(b"SEALPIPE_SERVICE="):
                        found[entry.split(b"=", 1)[1].decode()] = int(child)
        return found

    def identity(self):
        for base, _, files in os.walk(os.path.join(self.directory, ".sealpipe")):
            if "kms-identity.pub" in files:
                return open(os.path.join(base, "kms-identity.pub")).read().strip()
        sys.exit(f"soak: {self.name}: no kms-identity.pub under .sealpipe")

    def state_bytes(self):
        total = 0
        for base, _, files in os.walk(os.path.join(self.directory, ".sealpipe")):
            for name in files:
                if name.startswith("kms.sqlite"):  # the database, and its -journal / -wal / -shm
                    total += os.path.getsize(os.path.join(base, name))
        return total

    def log_bytes(self):
        return sum(os.path.getsize(p) for p in (self.stdout_path, self.stderr_path))

    def restart_lines(self):
        text = open(self.stderr_path, errors="replace").read()
        return text.count("restarting after backoff") + text.count("gave up on service")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return None


def memory_kib(pid):
    try:
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.split("\n") if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def reset_peak(pid):
    """Starts VmHWM again from the current RSS (proc(5), clear_refs value 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError as error:
        sys.exit(f"soak: cannot reset the peak memory of pid {pid}: {error}")


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.status == 200 and b"process_resident_memory_bytes" in response.read()
    except OSError:
        return False


def ceiling_for(service):
    if service in ("kms", "gateway", "launch"):
        return CEILINGS_MIB[service]
    return CEILINGS_MIB["stage"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("seconds", type=float, nargs="?", default=300)
    parser.add_argument("--rate", type=float, default=20, help="real jobs a second on the echo pipeline")
    parser.add_argument("--model-rate", type=float, default=2, help="real jobs a second on the MiniLM pipeline")
    parser.add_argument("--no-model", action="store_true", help="leave the MiniLM pipeline out")
    parser.add_argument(
        "--front-frames", type=int, default=1000,
        help="1 MB frames in the attacker's front messages (a front that let libzmq assemble them held 1 GB)")
    parser.add_argument("--json", help="also write the report as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()

    binary = os.environ.get("SEALPIPE_BINARY", os.path.join(ROOT, ".build/debug/sealpipe"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"soak: no sealpipe binary at {binary} (swift build, or set SEALPIPE_BINARY)")
    model = os.environ.get("SEALPIPE_MODEL_DIR", os.path.join(ROOT, "models/all-MiniLM-L6-v2"))
    with_model = not args.no_model and os.path.exists(os.path.join(model, "model.safetensors"))
    floods = ["next-epoch", "nonces", "roles", "front-frames", "backend-frame", "refused-hops", "long-texts",
              "slow-metrics"]
    flood_seconds = max(3.0, (args.seconds - 10) / len(floods))
    work = tempfile.mkdtemp(prefix="sealpipe-soak-")
    say(f"{args.seconds:.0f} s, {len(floods)} floods of {flood_seconds:.1f} s, in {work}")

    pipelines = [Pipeline("soak-echo", "echo.yaml", [
        ("name: echo", "name: soak-echo"), ("127.0.0.1:5580", "127.0.0.1:5600"),
        ("127.0.0.1:5585", "127.0.0.1:5605"), ("127.0.0.1:5586", "127.0.0.1:5606"),
        ("basePort: 9430", "basePort: 9500")], os.path.join(work, "echo"), binary, 9500)]
    if with_model:
        pipelines[0].wait_ready()  # one launch at a time: both build their first keys and measure the binary
        pipelines.append(Pipeline("soak-minilm", "minilm.yaml", [
            ("name: minilm", "name: soak-minilm"), ("directory: models/all-MiniLM-L6-v2", f"directory: {model}"),
            (".sealpipe/minilm/", ".sealpipe/soak-minilm/"), ("127.0.0.1:5550", "127.0.0.1:5610"),
            ("127.0.0.1:5555", "127.0.0.1:5615"), ("127.0.0.1:5556", "127.0.0.1:5616"),
            ("basePort: 9400", "basePort: 9510")], os.path.join(work, "minilm"), binary, 9510))
    else:
        say(f"no model files at {model}: the 1 MiB texts go nowhere (flood skipped)")
    failures = []
    try:
        for p in pipelines:
            p.wait_ready()
        started = {p.name: p.services() for p in pipelines}
        for p in pipelines:
            say(f"{p.name} ready: {', '.join(f'{n} (pid {pid})' for n, pid in sorted(started[p.name].items()))}")
        metrics_ports = {p.name: [port for port in range(p.metrics_base, p.metrics_base + len(started[p.name]))
                                  if scrape(port)] for p in pipelines}
        for p in pipelines:
            if len(metrics_ports[p.name]) != len(started[p.name]):
                failures.append(f"{p.name}: {len(metrics_ports[p.name])} metrics endpoints answer for "
                                f"{len(started[p.name])} services")
        idle = {}
        for p in pipelines:
            for name, pid in list(started[p.name].items()) + [("launch", p.process.pid)]:
                idle[(p.name, name)] = (memory_kib(pid) or (0, 0))[0]
                reset_peak(pid)
        state_before = {p.name: p.state_bytes() for p in pipelines}
        logs_before = {p.name: p.log_bytes() for p in pipelines}

        duration = args.seconds
        load = {}
        for p, rate in zip(pipelines, [args.rate, args.model_rate]):
            load[p.name] = subprocess.Popen(
                [binary, "loadtest", "--topology", p.topology, "--allow-simulated", "--rate", str(rate),
                 "--duration", str(duration), "--warm-up", "1", "--workers", "1", "--json", "loadtest.json"],
                cwd=p.directory, stdout=open(os.path.join(p.directory, "loadtest.out"), "wb"),
                stderr=subprocess.DEVNULL)
        time.sleep(5)
        echo = pipelines[0]
        attacker_command = [
            sys.executable, os.path.join(ROOT, "Scripts/soak/attacker.py"), "--front", "tcp://127.0.0.1:5605",
            "--backend", "tcp://127.0.0.1:5606", "--kms", "tcp://127.0.0.1:5600", "--kms-key", echo.identity(),
            "--topology", os.path.join(echo.directory, echo.topology),
            "--metrics", ",".join(str(port) for ports in metrics_ports.values() for port in ports),
            "--seconds", f"{flood_seconds:.1f}", "--floods", ",".join(floods),
            "--front-frames", str(args.front_frames)]
        if with_model:
            attacker_command += ["--long-front", "tcp://127.0.0.1:5615", "--long-kms", "tcp://127.0.0.1:5610",
                                 "--long-kms-key", pipelines[1].identity()]
        attacker_out = os.path.join(work, "attacker.jsonl")
        attacker = subprocess.Popen(attacker_command, stdout=open(attacker_out, "wb"),
                                    stderr=open(os.path.join(work, "attacker.err"), "wb"))

        peaks, scrape_failures, scrapes, restarts_seen = {}, {}, 0, []
        state_peak = dict(state_before)
        last_hwm = {}
        while any(l.poll() is None for l in load.values()) or attacker.poll() is None:
            for p in pipelines:
                now = p.services()
                for name, pid in started[p.name].items():
                    if now.get(name) != pid and (p.name, name) not in restarts_seen:
                        restarts_seen.append((p.name, name))
                for name, pid in list(now.items()) + [("launch", p.process.pid)]:
                    m = memory_kib(pid)
                    if m:
                        key = (p.name, name)
                        peaks[key] = max(peaks.get(key, 0), m[0])
                        last_hwm[key] = max(last_hwm.get(key, 0), m[1])
                state_peak[p.name] = max(state_peak[p.name], p.state_bytes())
                for port in metrics_ports[p.name]:
                    scrapes += 1
                    if not scrape(port):
                        scrape_failures[port] = scrape_failures.get(port, 0) + 1
            time.sleep(1)
        elapsed = args.seconds

        for p in pipelines:
            final = p.services()
            for name in started[p.name]:
                if name not in final:
                    failures.append(f"{p.name}: {name} is not running at the end")
        restart_lines = {p.name: p.restart_lines() for p in pipelines}
        state_after = {p.name: p.state_bytes() for p in pipelines}
        logs_after = {p.name: p.log_bytes() for p in pipelines}
        stops = {p.name: p.stop() for p in pipelines}

        report = {"seconds": elapsed, "floods": [], "pipelines": {}}
        for line in open(attacker_out):
            event = json.loads(line)
            if event.get("event") == "end":
                report["floods"].append(event)
        if attacker.returncode != 0:
            failures.append(f"the attacker failed (exit {attacker.returncode}); see {work}/attacker.err")
        for p in pipelines:
            figures = json.load(open(os.path.join(p.directory, "loadtest.json")))
            jobs = {k: figures.get(k) for k in ("requests", "results", "errors", "errors_by_code", "p50_ms", "p99_ms",
                                                 "max_ms", "throughput_per_s")}
            memory = {name: {"idle_rss_mib": round(idle.get((p.name, name), 0) / 1024, 1),
                             "peak_rss_mib": round(peaks.get((p.name, name), 0) / 1024, 1),
                             "peak_hwm_mib": round(last_hwm.get((p.name, name), 0) / 1024, 1),
                             "ceiling_mib": ceiling_for(name)}
                      for (pipeline, name) in sorted(peaks) if pipeline == p.name}
            growth = state_after[p.name] - state_before[p.name]
            bound = state_bound(elapsed, releases=0)
            log_growth = logs_after[p.name] - logs_before[p.name]
            log_bound = int(LOG_BOUND_BYTES_PER_SECOND * elapsed)
            restarts = sum(1 for (q, _) in restarts_seen if q == p.name) + restart_lines[p.name]
            report["pipelines"][p.name] = {
                "jobs": jobs, "memory": memory, "state_bytes_before": state_before[p.name],
                "state_growth_bytes": growth, "state_peak_growth_bytes": state_peak[p.name] - state_before[p.name],
                "state_bound_bytes": bound, "log_growth_bytes": log_growth, "log_bound_bytes": log_bound,
                "restarts": restarts, "launcher_exit": stops[p.name]}
            if jobs["errors"] or jobs["results"] != jobs["requests"]:
                failures.append(f"{p.name}: {jobs['errors']} real jobs failed ({jobs['errors_by_code']}), "
                                f"{jobs['results']} of {jobs['requests']} answered")
            for name, m in memory.items():
                if m["peak_hwm_mib"] > m["ceiling_mib"]:
                    failures.append(f"{p.name}: {name} peaked at {m['peak_hwm_mib']} MiB, over its "
                                    f"{m['ceiling_mib']} MiB ceiling")
            if state_peak[p.name] - state_before[p.name] > bound:
                failures.append(f"{p.name}: the broker's state grew by {state_peak[p.name] - state_before[p.name]} "
                                f"bytes, over its bound of {bound}")
            if log_growth > log_bound:
                failures.append(f"{p.name}: the logs grew by {log_growth} bytes, over {log_bound}")
            if restarts:
                failures.append(f"{p.name}: {restarts} restart(s)")
            if stops[p.name] != 0:
                failures.append(f"{p.name}: the launcher exited {stops[p.name]} on SIGTERM, not 0")
        report["scrapes"] = scrapes
        report["scrape_failures"] = scrape_failures
        if scrape_failures:
            failures.append(f"metrics scrapes unanswered: {scrape_failures} of {scrapes}")
        report["failures"] = failures
        print_report(report)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(report, out, indent=2, sort_keys=True)
    finally:
        for p in pipelines:
            p.stop()
        if not args.keep and not failures:
            shutil.rmtree(work, ignore_errors=True)
        elif failures:
            say(f"kept {work} for a look")
    return 1 if failures else 0


def print_report(report):
    say(f"report after {report['seconds']:.0f} s")
    for flood in report["floods"]:
        figures = {k: v for k, v in flood.items() if k not in ("flood", "event", "time")}
        say(f"  flood {flood['flood']}: {json.dumps(figures, sort_keys=True)}")
    for name, p in report["pipelines"].items():
        j = p["jobs"]
        say(f"  {name}: real jobs {j['results']}/{j['requests']} answered, {j['errors']} errors "
            f"{j['errors_by_code'] or ''}, p50 {j['p50_ms']:.1f} ms, p99 {j['p99_ms']:.1f} ms, max {j['max_ms']:.1f} ms")
        for service, m in p["memory"].items():
            say(f"    {service:15} ready {m['idle_rss_mib']:6.1f} MiB, peak {m['peak_hwm_mib']:6.1f} MiB "
                f"(sampled {m['peak_rss_mib']:.1f}), ceiling {m['ceiling_mib']} MiB")
        say(f"    broker state +{p['state_growth_bytes']} bytes (peak +{p['state_peak_growth_bytes']}), "
            f"bound {p['state_bound_bytes']}; logs +{p['log_growth_bytes']} bytes, bound {p['log_bound_bytes']}; "
            f"restarts {p['restarts']}; launcher exit {p['launcher_exit']}")
    say(f"  metrics scrapes: {report['scrapes']}, unanswered {sum(report['scrape_failures'].values())}")
    if report["failures"]:
        for failure in report["failures"]:
            say(f"BOUND BROKEN: {failure}")
    else:
        say("every bound held")


if __name__ == "__main__":
    sys.exit(main())
