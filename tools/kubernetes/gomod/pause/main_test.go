package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as pause: PAUSE_AS_MAIN=1 runs main().
func TestMain(m *testing.M) {
	if os.Getenv("PAUSE_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestItSleepsUntilSIGTERMThenExitsZero(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "PAUSE_AS_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("pause ended before any signal: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		_ = cmd.Process.Signal(syscall.SIGCHLD) // a child ended: reaped, and pause goes on
		select {
		case err := <-done:
			t.Fatalf("pause ended on SIGCHLD: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		_ = cmd.Process.Signal(sig)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("pause after %v: %v, want exit 0", sig, err)
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("pause did not stop on %v", sig)
		}
	}
}
