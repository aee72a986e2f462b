// Command pulumi-language-python is this project's own, minimal Python language host for the Pulumi engine.
//
// Why it exists: the upstream language host (module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is not served by the Go module
// proxy that this project's machines can reach, so it cannot be built offline. This program implements the
// LanguageRuntime gRPC service that the engine needs for `pulumi preview/up/destroy/refresh` of a Python
// project: it runs the SDK's own `pulumi-language-python-exec` script (shipped in the served
// github.com/pulumi/pulumi/sdk/v3 module) with the project's virtualenv, reports the resource plugins that the
// installed Pulumi packages need (from their pulumi-plugin.json), installs dependencies through the SDK's
// python toolchain package, answers `pulumi about`, and runs Python policy packs (RunPlugin, kind analyzer:
// `pulumi preview --policy-pack DIR`). Code generation and conversion are not implemented (Unimplemented).
//
// Protocol (as the engine uses it): the engine starts the binary with the engine's gRPC address as the last
// argument; the host prints the port it listens on, on one stdout line, and serves until killed.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version is set with -ldflags "-X main.Version=...": the version of the sdk/v3 module this host was built with.
var Version = "dev"

// exit code the exec script uses to say "an error was already shown to the user".
const userActionableExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	executor      string
}

func main() {
	// The engine passes its address as the last positional argument; it may add flags such as -tracing X.
	var engineAddress string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && i+1 < len(args) && a != "-v" && !strings.HasPrefix(a, "-logtostderr") {
				i++ // flag with a separate value, e.g. -tracing http://...
			}
			continue
		}
		engineAddress = a
	}

	executor, err := findExecutor()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	h := &host{engineAddress: engineAddress, executor: executor}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

// findExecutor locates pulumi-language-python-exec next to this binary, else on PATH.
func findExecutor() (string, error) {
	const name = "pulumi-language-python-exec"
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			candidate := filepath.Join(filepath.Dir(real), name)
			if st, err := os.Stat(candidate); err == nil && st.Mode()&0o111 != 0 {
				return candidate, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("missing executor: could not find %s next to the language host or on PATH", name)
	}
	return p, nil
}

type pyOptions struct {
	virtualenv string
	toolchain  string
}

func optionsOf(info *pulumirpc.ProgramInfo) pyOptions {
	var o pyOptions
	if info == nil || info.GetOptions() == nil {
		return o
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["virtualenv"].(string); ok {
		o.virtualenv = v
	}
	if v, ok := m["toolchain"].(string); ok {
		o.toolchain = strings.ToLower(v)
	}
	return o
}

func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, pyOptions, error) {
	o := optionsOf(info)
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Virtualenv: o.virtualenv,
		Toolchain:  toolchain.Pip,
	}
	if opts.ProgramDir == "" {
		opts.ProgramDir = opts.Root
	}
	switch o.toolchain {
	case "", "pip":
		if o.toolchain == "" {
			opts.Toolchain = toolchain.Auto
		}
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return nil, o, fmt.Errorf("unknown python toolchain %q", o.toolchain)
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return tc, o, err
}

func (h *host) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// pluginScan lists the resource plugins declared by the installed Python packages (pulumi-plugin.json at the
// top of each package, as Pulumi's provider SDKs ship it).
const pluginScan = `
import json, sys
import importlib.metadata as md
out = []
for d in md.distributions():
    for f in (d.files or []):
        if f.name != "pulumi-plugin.json" or len(f.parts) != 2:
            continue
        try:
            j = json.loads(f.read_text())
        except Exception:
            continue
        if not j.get("resource"):
            continue
        name = j.get("name") or d.metadata["Name"].lower().removeprefix("pulumi-").removeprefix("pulumi_")
        out.append({"name": name, "version": j.get("version") or d.version,
                    "server": j.get("server") or "", "parameterization": j.get("parameterization")})
json.dump(out, sys.stdout)
`

type scannedPlugin struct {
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	Server           string          `json:"server"`
	Parameterization *scannedParamet `json:"parameterization"`
}

type scannedParamet struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Value   string `json:"value"` // base64 in pulumi-plugin.json
}

func (h *host) scanPlugins(ctx context.Context, info *pulumirpc.ProgramInfo) ([]scannedPlugin, error) {
	tc, _, err := resolveToolchain(info)
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginScan)
	if err != nil {
		return nil, err
	}
	cmd.Dir = info.GetProgramDirectory()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("listing the Pulumi packages of the Python environment: %w: %s", err, stderr.String())
	}
	var plugins []scannedPlugin
	if err := json.Unmarshal(stdout.Bytes(), &plugins); err != nil {
		return nil, fmt.Errorf("parsing the plugin list %q: %w", stdout.String(), err)
	}
	return plugins, nil
}

func (h *host) GetRequiredPlugins(ctx context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	plugins, err := h.scanPlugins(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range plugins {
		if p.Parameterization != nil {
			continue
		}
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: "resource", Version: normalizeVersion(p.Version), Server: p.Server,
		})
	}
	return resp, nil
}

func (h *host) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	plugins, err := h.scanPlugins(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range plugins {
		dep := &pulumirpc.PackageDependency{
			Name: p.Name, Kind: "resource", Version: normalizeVersion(p.Version), Server: p.Server,
		}
		if p.Parameterization != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Parameterization.Name, Version: normalizeVersion(p.Parameterization.Version),
				Value: decodeB64(p.Parameterization.Value),
			}
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

// normalizeVersion turns a PEP 440 pre-release ("4.25.0a1768448096") into the semver the plugin reports.
func normalizeVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	for _, tag := range []struct{ py, sem string }{{"a", "-alpha."}, {"b", "-beta."}, {"rc", "-rc."}} {
		i := strings.LastIndex(v, tag.py)
		if i <= 0 || strings.Contains(v, "-") {
			continue
		}
		if _, err := strconv.Atoi(v[i+len(tag.py):]); err == nil && v[i-1] >= '0' && v[i-1] <= '9' {
			return v[:i] + tag.sem + v[i+len(tag.py):]
		}
	}
	return v
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd()}
	}
	tc, o, err := resolveToolchain(info)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := []string{h.executor}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	program := req.GetProgram()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env = append(env, "PULUMI_CONFIG="+string(cfg), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	// Dynamic providers (pulumi-resource-pulumi-python) look for the program's virtualenv here.
	if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
		env = append(env, "PULUMI_RUNTIME_VIRTUALENV="+venv)
	}
	if o.toolchain != "" {
		env = append(env, "PULUMI_RUNTIME_TOOLCHAIN="+o.toolchain)
	}
	cmd.Env = env
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == userActionableExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// streamWriter forwards install output to the engine.
type streamWriter struct {
	send   func(*pulumirpc.InstallDependenciesResponse) error
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	r := &pulumirpc.InstallDependenciesResponse{Stdout: b}
	if w.stderr {
		r = &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	if err := w.send(r); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetDirectory(), ProgramDirectory: req.GetDirectory()}
	}
	tc, _, err := resolveToolchain(info)
	if err != nil {
		return err
	}
	var out, errw io.Writer = streamWriter{send: server.Send}, streamWriter{send: server.Send, stderr: true}
	return tc.InstallDependencies(server.Context(), info.GetProgramDirectory(), req.GetUseLanguageVersionTools(),
		true, out, errw)
}

func (h *host) RuntimeOptionsPrompts(ctx context.Context,
	req *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, _, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	about, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: about.PythonExecutable,
		Version:    about.PythonVersion.String(),
		Metadata:   map[string]string{"langhost": "wso2-kubernetes minimal python host " + Version},
	}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, _, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pkgs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

func decodeB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return []byte(s)
	}
	return b
}

// pluginStream copies a plugin's stdout/stderr to the engine. gRPC forbids concurrent Send on one stream, and
// the two pipes are copied on two goroutines: hence the shared mutex.
type pluginStream struct {
	mu     *sync.Mutex
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w pluginStream) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	r := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		r = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.server.Send(r); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin runs a Python policy pack (`pulumi preview --policy-pack DIR`): the engine loads DIR's
// PulumiPolicy.yaml and asks this host to start it. The pack is `python -u -m pulumi.policy <args> <DIR>` in
// the pack's own virtualenv (runtime.options.virtualenv, relative to DIR). Between the engine and Python sits
// the SDK's policy proxy: it prints its own port first and waits for the engine's ConfigureStack, so Python
// starts with PULUMI_PROJECT/STACK/DRY_RUN/CONFIG set and a pack can read pulumi.Config() at import.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented,
			"this language host runs only analyzer plugins (policy packs), not kind %q", req.GetKind())
	}
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd()}
	}
	packDir := info.GetProgramDirectory()
	if packDir == "" {
		packDir = info.GetRootDirectory()
	}
	tc, _, err := resolveToolchain(info)
	if err != nil {
		return err
	}
	ctx := server.Context()
	if err := tc.ValidateVenv(ctx); err != nil {
		return fmt.Errorf("policy pack %s: %w", packDir, err)
	}

	mu := &sync.Mutex{}
	stdout := pluginStream{mu: mu, server: server}
	stderr := pluginStream{mu: mu, server: server, stderr: true}
	proxy, pythonStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return err
	}
	cfg, err := proxy.AwaitConfiguration(ctx) // prints the proxy's port: the engine dials it next
	if err != nil {
		return err
	}

	args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...) // -u: the port line must not wait
	args = append(args, packDir)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		proxy.Abort(err)
		return err
	}
	env := cmd.Env
	if env == nil {
		env = req.GetEnv()
	}
	if len(env) == 0 {
		env = os.Environ()
	}
	if cfg != nil { // nil when the engine asked for info before configuring (e.g. `pulumi policy publish`)
		config, err := json.Marshal(nonNil(cfg.GetConfig()))
		if err != nil {
			return err
		}
		secretKeys := cfg.GetConfigSecretKeys()
		if secretKeys == nil {
			secretKeys = []string{}
		}
		keys, err := json.Marshal(secretKeys)
		if err != nil {
			return err
		}
		env = append(env, "PULUMI_PROJECT="+cfg.GetProject(), "PULUMI_STACK="+cfg.GetStack(),
			"PULUMI_ORGANIZATION="+cfg.GetOrganization(), "PULUMI_DRY_RUN="+strconv.FormatBool(cfg.GetDryRun()),
			"PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	}
	cmd.Env = env
	cmd.Dir = packDir
	cmd.Stdout, cmd.Stderr = pythonStdout, stderr
	if err := cmd.Start(); err != nil {
		proxy.Abort(err)
		return fmt.Errorf("starting policy pack %s: %w", packDir, err)
	}
	runErr := proxy.Attach(ctx, cmd) // serves until Python exits (or the engine cancels the stream)
	code := int32(0)
	var exitErr *exec.ExitError
	switch {
	case errors.As(runErr, &exitErr):
		code = int32(exitErr.ExitCode())
	case runErr != nil && ctx.Err() == nil:
		return runErr
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
