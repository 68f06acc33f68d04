import Sodium
import TimeUnits
import Wire

/// Turns one computed batch into the messages a stage sends: one new bundle with every job of
/// the batch that succeeded, or — at the last stage — a result per job; and a reject per job
/// that failed. A batch holds whole hops, so each hop it drew from leaves entirely in this
/// bundle (or as rejects), which is what lets the gateway retire those hops. Times each seal.
struct StageOutput {
    let sender: HopSender
    private(set) var messages: [PipelineMessage] = []
    private(set) var processed = 0
    private(set) var failed = 0
    private(set) var sealTimes: [Double] = []
    /// Outputs for the next role by key epoch, sealed as one bundle per epoch by `finish`: a job
    /// keeps the epoch its client sealed it under.
    private var outputs: [UInt32: [(job: HopReceiver.AcceptedJob, output: SecureBytes)]] = [:]

    init(sender: HopSender) {
        self.sender = sender
    }

    mutating func add(_ outcomes: [(HopReceiver.AcceptedJob, StageOutcome)], of hop: HopReceiver.Accepted) {
        var succeeded: [(job: HopReceiver.AcceptedJob, output: SecureBytes)] = []
        for (job, outcome) in outcomes {
            switch outcome {
            case .output(let bytes): succeeded.append((job, bytes))
            case .failure(let detail):
                messages.append(HopSender.failure(of: job, detail: detail))
                failed += 1
            }
        }
        if sender.isLast {
            for (job, bytes) in succeeded { sealResult(bytes, for: job, epoch: hop.epoch) }
        } else if !succeeded.isEmpty {
            outputs[hop.epoch, default: []] += succeeded
        }
    }

    /// Seals the batch's outputs for the next role: one new bundle per epoch.
    mutating func finish() {
        for epoch in outputs.keys.sorted() { sealBundle(id: .random(), epoch: epoch, outputs[epoch]!) }
        outputs = [:]
    }

    /// A job keeps its epoch from stage to stage; one still in flight when that epoch's grace
    /// ended cannot go on. It ends as `unknownEpoch`, which a client answers by sealing it again
    /// under a fresh manifest.
    private static func graceEnded(_ missing: HopSender.MissingKey) -> String {
        "the job's key epoch ended while it was in flight (\(missing))"
    }

    private mutating func sealResult(_ output: SecureBytes, for job: HopReceiver.AcceptedJob, epoch: UInt32) {
        let started = ContinuousClock.now
        do {
            messages.append(try sender.result(output: output, for: job, epoch: epoch))
            processed += 1
        } catch let missing as HopSender.MissingKey {
            messages.append(HopSender.reject(jobID: job.jobID, code: .unknownEpoch, reason: Self.graceEnded(missing)))
            failed += 1
        } catch {
            messages.append(
                HopSender.reject(jobID: job.jobID, code: .malformed, reason: "the reply key is not a valid key"))
            failed += 1
        }
        sealTimes.append((ContinuousClock.now - started).secondsValue)
    }

    private mutating func sealBundle(
        id: JobID, epoch: UInt32, _ outputs: [(job: HopReceiver.AcceptedJob, output: SecureBytes)]
    ) {
        guard !outputs.isEmpty else { return }
        let started = ContinuousClock.now
        do {
            messages.append(try sender.bundle(id: id, epoch: epoch, outputs: outputs))
            processed += outputs.count
        } catch let missing as HopSender.MissingKey {
            let reason = Self.graceEnded(missing)
            for (job, _) in outputs {
                messages.append(HopSender.reject(jobID: job.jobID, code: .unknownEpoch, reason: reason))
            }
            failed += outputs.count
        } catch {
            // Sealing to the next role's attested key cannot fail for a valid key; if it does,
            // the jobs end with an error instead of vanishing.
            for (job, _) in outputs {
                messages.append(
                    HopSender.reject(jobID: job.jobID, code: .stageFailed, reason: "could not seal to the next role"))
            }
            failed += outputs.count
        }
        sealTimes.append((ContinuousClock.now - started).secondsValue)
    }
}
