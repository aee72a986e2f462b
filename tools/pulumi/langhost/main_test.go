package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// The test binary doubles as the language host: run with LANGHOST_AS_MAIN=1 it is main().
func TestMain(m *testing.M) {
	if os.Getenv("LANGHOST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestNormalizeVersionTurnsPEP440PreReleasesIntoSemver(t *testing.T) {
	for in, want := range map[string]string{
		"4.25.0a1768448096": "4.25.0-alpha.1768448096",
		"v1.2.3b4":          "1.2.3-beta.4",
		"0.0.22rc1":         "0.0.22-rc.1",
		"3.272.0":           "3.272.0",
		"1.0.0-alpha.1":     "1.0.0-alpha.1", // already semver
		"1.0.0abc":          "1.0.0abc",      // not a pre-release number
		"beta":              "beta",
	} {
		if got := normalizeVersion(in); got != want {
			t.Errorf("normalizeVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsOfReadsVirtualenvAndToolchainFromPulumiYaml(t *testing.T) {
	opts, err := structpb.NewStruct(map[string]any{"virtualenv": ".venv", "toolchain": "Pip"})
	if err != nil {
		t.Fatal(err)
	}
	o := optionsOf(&pulumirpc.ProgramInfo{Options: opts})
	if o.virtualenv != ".venv" || o.toolchain != "pip" {
		t.Fatalf("optionsOf = %+v, want virtualenv .venv and toolchain pip", o)
	}
	if o := optionsOf(nil); o != (pyOptions{}) {
		t.Fatalf("optionsOf(nil) = %+v, want the zero options", o)
	}
}

func TestAnUnknownToolchainIsRefusedByName(t *testing.T) {
	opts, _ := structpb.NewStruct(map[string]any{"toolchain": "conda"})
	_, _, err := resolveToolchain(&pulumirpc.ProgramInfo{RootDirectory: t.TempDir(), Options: opts})
	if err == nil || !strings.Contains(err.Error(), `unknown python toolchain "conda"`) {
		t.Fatalf("resolveToolchain with toolchain conda: err = %v", err)
	}
}

func TestDecodeB64FallsBackToTheTextItself(t *testing.T) {
	if got := string(decodeB64("aGVsbG8=")); got != "hello" {
		t.Errorf("decodeB64 of base64 = %q", got)
	}
	if got := string(decodeB64("not base64!")); got != "not base64!" {
		t.Errorf("decodeB64 of plain text = %q", got)
	}
}

// fakeRunPluginStream records what pluginStream sends; Send panics on concurrent use, as gRPC forbids it.
type fakeRunPluginStream struct {
	grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	busy sync.Mutex
	out  []*pulumirpc.RunPluginResponse
}

func (f *fakeRunPluginStream) Send(r *pulumirpc.RunPluginResponse) error {
	if !f.busy.TryLock() {
		panic("concurrent Send on one stream")
	}
	defer f.busy.Unlock()
	time.Sleep(time.Microsecond)
	f.out = append(f.out, r)
	return nil
}

func TestPluginStreamsSendOneAtATimeAndKeepStdoutAndStderrApart(t *testing.T) {
	server := &fakeRunPluginStream{}
	mu := &sync.Mutex{}
	stdout, stderr := pluginStream{mu: mu, server: server}, pluginStream{mu: mu, server: server, stderr: true}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = stdout.Write([]byte("o")) }()
		go func() { defer wg.Done(); _, _ = stderr.Write([]byte("e")) }()
	}
	wg.Wait()
	var outs, errs int
	for _, r := range server.out {
		switch {
		case string(r.GetStdout()) == "o":
			outs++
		case string(r.GetStderr()) == "e":
			errs++
		default:
			t.Fatalf("unexpected message %v", r)
		}
	}
	if outs != 50 || errs != 50 {
		t.Fatalf("sent %d stdout and %d stderr messages, want 50 each", outs, errs)
	}
}

// The host as the engine starts it: it prints its port on one stdout line and answers GetPluginInfo with the
// version it was built for; it refuses to start without the SDK's executor script.
func TestTheHostPrintsItsPortAndReportsItsVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "pulumi-language-python-exec"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-tracing", "http://ignored", "127.0.0.1:1")
	cmd.Env = append(os.Environ(), "LANGHOST_AS_MAIN=1", "PATH="+bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no port line: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := pulumirpc.NewLanguageRuntimeClient(conn).GetPluginInfo(ctx, &emptypb.Empty{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	if info.GetVersion() != Version {
		t.Fatalf("GetPluginInfo version %q, want %q", info.GetVersion(), Version)
	}

	missing := exec.Command(os.Args[0], "127.0.0.1:1")
	missing.Env = append(os.Environ(), "LANGHOST_AS_MAIN=1", "PATH="+t.TempDir())
	msg, err := missing.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "missing executor") {
		t.Fatalf("without the executor script: err %v, output %q", err, msg)
	}
}
