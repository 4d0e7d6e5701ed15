package views

import "testing"

// TestFileSize: sizes read as people expect, in powers of 1024.
func TestFileSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 1: "1 byte", 9: "9 bytes", 1023: "1023 bytes", 1024: "1.0 KB", 1536: "1.5 KB",
		20 << 10: "20 KB", 80 << 20: "80 MB", 5 << 30: "5.0 GB", 3 << 40: "3.0 TB",
	} {
		if got := fileSize(n); got != want {
			t.Errorf("fileSize(%d) = %q, want %q", n, got, want)
		}
	}
}
