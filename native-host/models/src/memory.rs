//! This process's memory as Linux reports it (`/proc/self/status`), for `hello`, the benchmarks and the CLI.

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`, …); `None` where /proc does not have it.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory now, in KiB (`VmRSS`).
pub fn resident_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// Peak resident memory, in KiB (`VmHWM`).
pub fn peak_resident_kib() -> Option<u64> {
    status_kib("VmHWM")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_memory_on_linux() {
        if cfg!(target_os = "linux") {
            let now = super::resident_kib().unwrap();
            assert!(now > 0 && super::peak_resident_kib().unwrap() >= now);
        }
    }
}
