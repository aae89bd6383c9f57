package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
)

// nkeyOptions drive `natsctl nkey ...`: the nk tool's operations.
type nkeyOptions struct {
	deps    *deps
	Type    string // gen: user, account, operator, server, cluster, curve
	Out     string // gen: write the seed to this file (0600)
	PubOut  bool   // gen: print the public key after the seed
	JSON    bool
	Input   string // sign/verify: file of data ("-" or "": stdin)
	Key     string // a seed or public key, or a file holding one
	Sig     string // verify: the signature, or a file holding it
	ReadAll func(name string) ([]byte, error)
}

func newNkeyCmd(d *deps) *cobra.Command {
	o := &nkeyOptions{deps: d, ReadAll: os.ReadFile}
	cmd := &cobra.Command{
		Use:   "nkey",
		Short: "Create nkeys and sign or verify with them (like the nk tool)",
		Long: `Create nkeys and sign or verify with them, as the nk tool does.

An nkey is an ed25519 key pair. Its seed ("SU...", "SA...", "SO...") is the
secret; its public key ("U...", "A...", "O...") goes in the server config:

  authorization { users = [ {nkey: UDXU4RCSJNZOIQHZ...} ] }

The server sends a random nonce in INFO; the client signs it with the seed
and the server checks the signature against the public key, so the seed never
crosses the wire.`,
		Example: `  natsctl nkey gen user -o alice.nk          # seed in alice.nk (mode 0600)
  natsctl nkey pub alice.nk                  # its public key, for the server config
  natsctl nkey gen account --pubout --json
  echo -n hello | natsctl nkey sign --key alice.nk > hello.sig
  echo -n hello | natsctl nkey verify --key UDXU4RCSJNZOIQHZ... --sig hello.sig`,
	}
	gen := &cobra.Command{
		Use:       "gen <user|account|operator|server|cluster|curve>",
		Short:     "Generate a new key pair and print its seed",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"user", "account", "operator", "server", "cluster", "curve"},
		Example:   "  natsctl nkey gen user -o alice.nk\n  natsctl nkey gen operator --pubout",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Type = args[0]
			return runNkeyGen(o)
		},
	}
	gen.Flags().StringVarP(&o.Out, "output", "o", "", "write the seed to this file (created with mode 0600) instead of stdout")
	gen.Flags().BoolVar(&o.PubOut, "pubout", false, "also print the public key")
	gen.Flags().BoolVar(&o.JSON, "json", false, "print {\"seed\",\"public_key\",\"type\"} as JSON")
	pub := &cobra.Command{
		Use:     "pub [seed-file]",
		Short:   "Print the public key of a seed (from a file, or stdin)",
		Args:    cobra.MaximumNArgs(1),
		Example: "  natsctl nkey pub alice.nk\n  cat alice.nk | natsctl nkey pub",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Key = optArg(args, 0, "-")
			return runNkeyPub(o)
		},
	}
	pub.Flags().BoolVar(&o.JSON, "json", false, "print {\"public_key\",\"type\"} as JSON")
	sign := &cobra.Command{
		Use:     "sign [file] --key SEED",
		Short:   "Sign data (a file, or stdin) with a seed; prints the base64url signature",
		Args:    cobra.MaximumNArgs(1),
		Example: "  natsctl nkey sign nonce.txt --key alice.nk\n  printf %s \"$NONCE\" | natsctl nkey sign --key alice.nk",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Input = optArg(args, 0, "-")
			return runNkeySign(o)
		},
	}
	sign.Flags().StringVarP(&o.Key, "key", "k", "", "the seed, or a file holding it (required)")
	verify := &cobra.Command{
		Use:     "verify [file] --key KEY --sig SIG",
		Short:   "Verify a signature of data (a file, or stdin); exits 1 when it does not match",
		Args:    cobra.MaximumNArgs(1),
		Example: "  natsctl nkey verify nonce.txt --key UDXU4RCSJNZOIQHZ... --sig nonce.sig",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Input = optArg(args, 0, "-")
			return runNkeyVerify(o)
		},
	}
	verify.Flags().StringVarP(&o.Key, "key", "k", "", "a public key or seed, or a file holding one (required)")
	verify.Flags().StringVarP(&o.Sig, "sig", "s", "", "the signature (base64), or a file holding it (required)")
	cmd.AddCommand(gen, pub, sign, verify)
	return cmd
}

// optArg returns args[i], or def when there is no such argument.
func optArg(args []string, i int, def string) string {
	if i < len(args) {
		return args[i]
	}
	return def
}

var nkeyCreators = map[string]func() (nkeys.KeyPair, error){
	"user":     nkeys.CreateUser,
	"account":  nkeys.CreateAccount,
	"operator": nkeys.CreateOperator,
	"server":   nkeys.CreateServer,
	"cluster":  nkeys.CreateCluster,
	"curve":    nkeys.CreateCurveKeys,
}

func runNkeyGen(o *nkeyOptions) error {
	create, ok := nkeyCreators[strings.ToLower(o.Type)]
	if !ok {
		return fmt.Errorf("nkey gen: unknown type %q: use user, account, operator, server, cluster or curve", o.Type)
	}
	kp, err := create()
	if err != nil {
		return fmt.Errorf("nkey gen: %w", err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	if o.Out != "" {
		f, err := os.OpenFile(o.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("nkey gen: %w (the seed is not overwritten; remove the file or pick another)", err)
		}
		_, werr := fmt.Fprintf(f, "%s\n", seed)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("nkey gen: write %s: %w", o.Out, werr)
		}
		seed = nil // written: not printed
	}
	w := o.deps.IO.Out
	if o.JSON {
		v := map[string]string{"type": strings.ToLower(o.Type), "public_key": pub}
		if seed != nil {
			v["seed"] = string(seed)
		} else {
			v["seed_file"] = o.Out
		}
		return json.NewEncoder(w).Encode(v)
	}
	if seed != nil {
		fmt.Fprintf(w, "%s\n", seed)
	}
	if o.PubOut || seed == nil {
		fmt.Fprintln(w, pub)
	}
	return nil
}

// loadKey reads a seed or public key given inline or as a file ("-": stdin).
func (o *nkeyOptions) loadKey(spec string) (nkeys.KeyPair, error) {
	if spec == "" {
		return nil, errors.New("no key given: pass --key with a seed, a public key or a file holding one")
	}
	text := []byte(spec)
	if !looksLikeKey(spec) {
		b, err := o.read(spec)
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		text = b
	}
	for _, line := range bytes.Fields(text) { // a creds-style file may hold more
		if kp, err := nkeys.FromSeed(line); err == nil {
			return kp, nil
		}
		if kp, err := nkeys.FromPublicKey(string(line)); err == nil {
			return kp, nil
		}
	}
	return nil, errors.New("no nkey seed or public key found in the key given")
}

func looksLikeKey(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 56 && !strings.ContainsAny(s, "/\\.") && strings.ToUpper(s) == s
}

func (o *nkeyOptions) read(name string) ([]byte, error) {
	if name == "-" || name == "" {
		return io.ReadAll(o.deps.IO.In)
	}
	return o.ReadAll(name)
}

func runNkeyPub(o *nkeyOptions) error {
	kp, err := o.loadKey(o.Key)
	if err != nil {
		return fmt.Errorf("nkey pub: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("nkey pub: %w", err)
	}
	if o.JSON {
		return json.NewEncoder(o.deps.IO.Out).Encode(map[string]string{"public_key": pub, "type": keyType(pub)})
	}
	_, err = fmt.Fprintln(o.deps.IO.Out, pub)
	return err
}

func keyType(pub string) string {
	switch pub[0] {
	case 'U':
		return "user"
	case 'A':
		return "account"
	case 'O':
		return "operator"
	case 'N':
		return "server"
	case 'C':
		return "cluster"
	case 'X':
		return "curve"
	}
	return "unknown"
}

func runNkeySign(o *nkeyOptions) error {
	kp, err := o.loadKey(o.Key)
	if err != nil {
		return fmt.Errorf("nkey sign: %w", err)
	}
	if _, err := kp.Seed(); err != nil {
		return errors.New("nkey sign: signing needs a seed (S...), not a public key")
	}
	data, err := o.read(o.Input)
	if err != nil {
		return fmt.Errorf("nkey sign: read data: %w", err)
	}
	sig, err := kp.Sign(data)
	if err != nil {
		return fmt.Errorf("nkey sign: %w", err)
	}
	_, err = fmt.Fprintln(o.deps.IO.Out, base64.RawURLEncoding.EncodeToString(sig))
	return err
}

func runNkeyVerify(o *nkeyOptions) error {
	kp, err := o.loadKey(o.Key)
	if err != nil {
		return fmt.Errorf("nkey verify: %w", err)
	}
	if o.Sig == "" {
		return errors.New("nkey verify: no signature: pass --sig with the signature or a file holding it")
	}
	sigText := strings.TrimSpace(o.Sig)
	if b, err := o.ReadAll(o.Sig); err == nil {
		sigText = strings.TrimSpace(string(b))
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigText)
	if err != nil {
		if sig, err = base64.StdEncoding.DecodeString(sigText); err != nil {
			return fmt.Errorf("nkey verify: the signature is not base64")
		}
	}
	data, err := o.read(o.Input)
	if err != nil {
		return fmt.Errorf("nkey verify: read data: %w", err)
	}
	if err := kp.Verify(data, sig); err != nil {
		return &exitError{code: 1, err: errors.New("nkey verify: signature does NOT match")}
	}
	_, err = fmt.Fprintln(o.deps.IO.Out, "Verified OK")
	return err
}

// passwdOptions drive `natsctl passwd`.
type passwdOptions struct {
	deps     *deps
	Password string
	Cost     int
}

func newPasswdCmd(d *deps) *cobra.Command {
	o := &passwdOptions{deps: d}
	cmd := &cobra.Command{
		Use:   "passwd [password]",
		Short: "Print a bcrypt hash of a password for the server config",
		Long: `Print a bcrypt hash of a password (the argument, or the first line of
stdin) for --pass or a users entry: the server then keeps no plain password,
and clients still send the plain one.`,
		Example: `  natsctl passwd hunter2
  natsctl serve --user app --pass "$(natsctl passwd hunter2)"
  read -s PW; echo "$PW" | natsctl passwd`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Password = optArg(args, 0, "")
			return runPasswd(o)
		},
	}
	cmd.Flags().IntVar(&o.Cost, "cost", 11, "bcrypt cost (4 to 31; nats-server's tools use 11)")
	return cmd
}

func runPasswd(o *passwdOptions) error {
	pw := o.Password
	if pw == "" {
		b, err := io.ReadAll(io.LimitReader(o.deps.IO.In, 1<<16))
		if err != nil {
			return fmt.Errorf("passwd: read stdin: %w", err)
		}
		pw, _, _ = strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
	}
	if pw == "" {
		return errors.New("passwd: no password: pass it as an argument or on stdin")
	}
	if len(pw) > 72 {
		return errors.New("passwd: bcrypt takes at most 72 bytes of password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), o.Cost)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	_, err = fmt.Fprintln(o.deps.IO.Out, string(h))
	return err
}
