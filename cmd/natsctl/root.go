package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

// deps are what every command needs from outside: its streams, and (for client
// commands) a way to connect. Tests build their own.
type deps struct {
	IO *iostreams.IOStreams
	// Connect opens a client connection; connFlags resolve the options.
	Connect func(context.Context, client.Options) (*client.Conn, error)
}

func newDeps(ios *iostreams.IOStreams) *deps {
	return &deps{IO: ios, Connect: client.Connect}
}

func newRootCmd(d *deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "natsctl",
		Short: "A NATS-compatible server and the tools around it",
		Long: `natsctl runs a NATS-compatible messaging server and bundles the tools
people use around it: pub/sub/req/reply for shell scripts, bench for
throughput and latency, stream for persistent streams, top for a live view.

Every client command also works against a real nats-server.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newServeCmd(d, runServe),
		newVersionCmd(d),
		newPubCmd(d, runPub),
		newSubCmd(d, runSub),
		newReqCmd(d, runReq),
		newReplyCmd(d, runReply),
		newContextCmd(d),
		newTopCmd(d, runTop),
		newStreamCmd(d),
		newBenchCmd(d, runBench),
		newKVCmd(d),
		newConsumerCmd(d),
		newObjectCmd(d),
		newGendocsCmd(d),
	)
	root.AddCommand(newNkeyCmd(d), newPasswdCmd(d))
	addDynamicCompletions(root, d)
	return root
}
