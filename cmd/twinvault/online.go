package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/twinvault/twinvault/node"
)

// Online commands reach a running server through its HTTPS API, with the
// AWS CLI's conventions: an endpoint, a CA bundle, and credentials from
// the standard chain (environment, --profile, shared files).
type online struct {
	endpoint, caBundle, profile string
	region                      string // the server's; the default when empty
}

func onlineFlags(fs *flag.FlagSet) *online {
	o := &online{}
	fs.StringVar(&o.endpoint, "endpoint-url", "https://localhost:8443", "server endpoint")
	fs.StringVar(&o.caBundle, "ca-bundle", filepath.Join(node.DefaultDataDir, "tls", "ca.pem"), "CA certificate that signed the server's certificate")
	fs.StringVar(&o.profile, "profile", os.Getenv("AWS_PROFILE"), "credentials profile (the standard AWS chain otherwise)")
	return o
}

// config loads the SDK configuration: credentials, and an HTTP client
// that trusts the CA bundle.
func (o *online) config(ctx context.Context) (aws.Config, error) {
	ca, err := os.Open(o.caBundle)
	if err != nil {
		return aws.Config{}, fmt.Errorf("CA bundle: %w", err)
	}
	defer ca.Close()
	region := o.region
	if region == "" {
		region = node.DefaultRegion
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithCustomCABundle(ca)}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// callJSON calls a JSON 1.1 operation of TwinVault's own services, signed
// with SigV4, and decodes the answer into out.
func (o *online) callJSON(ctx context.Context, service, target string, in, out any) error {
	resp, err := o.call(ctx, service, target, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// call sends a signed JSON 1.1 request and returns the successful
// response, whose body the caller reads and closes.
func (o *online) call(ctx context.Context, service, target string, in any) (*http.Response, error) {
	cfg, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(raw, &e)
		if e.Type == "" {
			e.Type, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return nil, fmt.Errorf("%s (%d): %s", e.Type, resp.StatusCode, e.Message)
	}
	return resp, nil
}
