// Command plugininfo starts a Pulumi plugin binary, asks it for its version over gRPC (GetPluginInfo) and
// prints that version. toolchain.sh uses it to verify that a -X version flag really reached the binary
// (a wrong -X path is silently ignored by the Go linker).
//
// Usage: plugininfo <plugin-binary>
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: plugininfo <plugin-binary>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "plugininfo:", err)
		os.Exit(1)
	}
}

func run(bin string) error {
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	portc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		portc <- strings.TrimSpace(line)
	}()
	var port string
	select {
	case port = <-portc:
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%s printed no port within 60s", bin)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("%s printed %q instead of a port", bin, port)
	}

	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var info *pulumirpc.PluginInfo
	if strings.Contains(bin, "pulumi-language-") {
		info, err = pulumirpc.NewLanguageRuntimeClient(conn).GetPluginInfo(ctx, &emptypb.Empty{}, grpc.WaitForReady(true))
	} else {
		info, err = pulumirpc.NewResourceProviderClient(conn).GetPluginInfo(ctx, &emptypb.Empty{}, grpc.WaitForReady(true))
	}
	if err != nil {
		return err
	}
	fmt.Println(info.GetVersion())
	return nil
}
