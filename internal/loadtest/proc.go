package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every Linux architecture Go supports
// (sysconf(_SC_CLK_TCK) would need cgo).
const clockTicks = 100

// cpuSeconds returns the user+system CPU time pid has used so far, from
// /proc/<pid>/stat (the process's own threads, not its children).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("loadtest: cpu of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after ") " are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadtest: cpu of %d: malformed stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ... utime is field 14, stime field 15 (1-based).
	if len(f) < 13 {
		return 0, fmt.Errorf("loadtest: cpu of %d: short stat", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadtest: cpu of %d: bad utime/stime", pid)
	}
	return float64(ut+st) / clockTicks, nil
}

// rssKiB returns the resident set size of pid in KiB (VmRSS).
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("loadtest: rss of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("loadtest: rss of %d: %w", pid, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("loadtest: rss of %d: no VmRSS", pid)
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit (child
// processes inherit it) and returns the new soft limit. Every socket costs
// one descriptor on each side, so 10,000 sockets need 10,000+ in the
// server and in the clients. Raising the hard limit needs privileges
// (CAP_SYS_RESOURCE) that a container often lacks; the hard limit then caps
// how many sockets one process can hold.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("loadtest: getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("loadtest: setrlimit: %w", err)
		}
	}
	return lim.Cur, nil
}

// systemBusySeconds returns the CPU time all processes have used (user,
// nice, system, irq, softirq, steal; not idle or iowait), from /proc/stat.
// Over a step, this minus the processes the tool knows about is what other
// work on the machine took: a benchmark on a shared machine is only as
// good as that figure is small.
func systemBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("loadtest: /proc/stat: unexpected first line %q", line)
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: /proc/stat: %w", err)
		}
		busy += v
	}
	return float64(busy) / clockTicks, nil
}

// loadAverage returns the 1-minute load average as text, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// softnetDropped returns the packets the kernel dropped because a CPU's
// input backlog (net.core.netdev_max_backlog) was full, summed over CPUs
// (/proc/net/softnet_stat, second column). On loopback every socket write
// is such a packet: a burst of writes to thousands of sockets, or thousands
// of TCP keepalive probes whose timers fire together, can overflow it, and
// each drop costs a retransmission (200 ms at least) or, for keepalive
// probes, eventually the connection.
func softnetDropped() (uint64, error) {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: softnet_stat: %w", err)
	}
	var total uint64
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 16, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: softnet_stat: %w", err)
		}
		total += v
	}
	return total, nil
}

// fdReserve is how many descriptors a fleet leaves free in the tool for
// everything else it opens while the sockets are up (/proc reads, Redis,
// HTTP requests to the servers, the database).
const fdReserve = 256

// fdRoom returns how many more descriptors this process may open before
// it keeps only fdReserve free, or -1 if unknown.
func fdRoom() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return max(0, int(lim.Cur)-len(ents)-fdReserve)
}

// dbBackends returns the CPU seconds so far of every PostgreSQL backend
// process connected to database db, by PID. A backend's process title
// (its /proc cmdline) reads "postgres: <cluster>: <user> <db> <client> …".
func dbBackends(db string) map[int]float64 {
	out := map[int]float64{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(b, []byte("postgres: ")) {
			continue
		}
		if !bytes.Contains(b, []byte(" "+db+" ")) {
			continue
		}
		if c, err := cpuSeconds(pid); err == nil {
			out[pid] = c
		}
	}
	return out
}

// dbBackendsCPU is the CPU the backends in after used since before (a
// backend that started in between counts from zero; one that ended is
// not counted).
func dbBackendsCPU(before, after map[int]float64) float64 {
	var sum float64
	for pid, c := range after {
		sum += c - before[pid]
	}
	return sum
}
