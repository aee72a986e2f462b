package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The test binary doubles as a plugin: FAKE_PLUGIN=provider|language serves GetPluginInfo with version
// FAKE_VERSION (printing its port first, as Pulumi plugins do); FAKE_PLUGIN=noport prints something else.
func TestMain(m *testing.M) {
	switch os.Getenv("FAKE_PLUGIN") {
	case "":
		os.Exit(m.Run())
	case "noport":
		fmt.Println("hello")
		select {}
	default:
		serveFake(os.Getenv("FAKE_PLUGIN"), os.Getenv("FAKE_VERSION"))
	}
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	version string
}

func (p provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

type language struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	version string
}

func (l language) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: l.version}, nil
}

func serveFake(kind, version string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer()
	if kind == "language" {
		pulumirpc.RegisterLanguageRuntimeServer(srv, language{version: version})
	} else {
		pulumirpc.RegisterResourceProviderServer(srv, provider{version: version})
	}
	fmt.Println(lis.Addr().(*net.TCPAddr).Port)
	_ = srv.Serve(lis)
}

// plugin links the test binary under a plugin's file name: run() picks the gRPC service by that name.
func plugin(t *testing.T, name string) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(os.Args[0], path); err != nil {
		t.Fatal(err)
	}
	return path
}

func captured(t *testing.T, f func() error) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = f()
	os.Stdout = stdout
	_ = w.Close()
	out := make([]byte, 256)
	n, _ := r.Read(out)
	return string(out[:n]), err
}

func TestItPrintsTheVersionAResourcePluginReports(t *testing.T) {
	t.Setenv("FAKE_PLUGIN", "provider")
	t.Setenv("FAKE_VERSION", "4.25.0-alpha.1768448096")
	out, err := captured(t, func() error { return run(plugin(t, "pulumi-resource-kubernetes")) })
	if err != nil || out != "4.25.0-alpha.1768448096\n" {
		t.Fatalf("run = %q, %v", out, err)
	}
}

func TestALanguageHostIsAskedThroughTheLanguageRuntimeService(t *testing.T) {
	t.Setenv("FAKE_PLUGIN", "language")
	t.Setenv("FAKE_VERSION", "v3.274.1")
	out, err := captured(t, func() error { return run(plugin(t, "pulumi-language-python")) })
	if err != nil || out != "v3.274.1\n" {
		t.Fatalf("run = %q, %v", out, err)
	}
}

func TestABinaryThatPrintsNoPortIsReported(t *testing.T) {
	t.Setenv("FAKE_PLUGIN", "noport")
	_, err := captured(t, func() error { return run(plugin(t, "pulumi-resource-x")) })
	if err == nil || !strings.Contains(err.Error(), `printed "hello" instead of a port`) {
		t.Fatalf("err = %v", err)
	}
}
