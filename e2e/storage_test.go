package e2e

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/twinvault/twinvault/node"
	tvs3 "github.com/twinvault/twinvault/s3"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestNoPlaintextAtRest writes distinctive markers into every kind of
// user-supplied text, then reads every file under the data directory, while
// the server runs and after it stopped, and finds none of them, nor any
// credential: secret access keys, an MFA seed, a session's secret and token.
func TestNoPlaintextAtRest(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	m := func(what string) string { return "QZX" + what + "MARK" }
	markers := []string{
		m("wsid"), m("wsdesc"), m("wstagk"), m("wstagv"), m("ctid"), m("ctdesc"), m("ctprop"), m("entid"),
		m("entname"), m("entdesc"), m("enttagk"), m("enttagv"), m("comp"), m("strval"), m("listval"), m("mapkey"),
		m("mapval"), m("sceneid"), m("scenedesc"), m("scenemeta"), m("tagkey2"), m("tagval2"), m("tsval"),
	}
	ws := aws.String(m("wsid"))
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws, Description: aws.String(m("wsdesc")),
		Tags: map[string]string{m("wstagk"): m("wstagv")}}); err != nil {
		t.Fatal(err)
	}
	ctID := "com.example." + m("ctid")
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String(ctID),
		Description: aws.String(m("ctdesc")),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{
			m("ctprop"): {DataType: &types.DataType{Type: types.TypeString}},
			"events":    {DataType: &types.DataType{Type: types.TypeString}, IsTimeSeries: aws.Bool(true)},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(m("entid")),
		EntityName: aws.String(m("entname")), Description: aws.String(m("entdesc")), Tags: map[string]string{m("enttagk"): m("enttagv")},
		Components: map[string]types.ComponentRequest{m("comp"): {ComponentTypeId: aws.String(ctID), Properties: map[string]types.PropertyRequest{
			m("ctprop"): strProp(m("strval")),
			"list": {Definition: &types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeList, NestedType: &types.DataType{Type: types.TypeString}}},
				Value: &types.DataValue{ListValue: []types.DataValue{{StringValue: aws.String(m("listval"))}}}},
			"map": {Definition: &types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeMap, NestedType: &types.DataType{Type: types.TypeString}}},
				Value: &types.DataValue{MapValue: map[string]types.DataValue{m("mapkey"): {StringValue: aws.String(m("mapval"))}}}},
		}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: ws, SceneId: aws.String(m("sceneid")),
		ContentLocation: aws.String(sceneDocument(t, srv, *ws, "scene.json", m("scenedoc"))), Description: aws.String(m("scenedesc")),
		SceneMetadata: map[string]string{"k": m("scenemeta")}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/" + *ws + "/entity/" + m("entid")
	if _, err := tm.TagResource(ctx, &iottwinmaker.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{m("tagkey2"): m("tagval2")}}); err != nil {
		t.Fatal(err)
	}
	// A string time series, enough points that some get compacted.
	for i := range 30 {
		var vals []types.PropertyValue
		for j := range 10 {
			vals = append(vals, types.PropertyValue{Time: aws.String(time.Unix(1700000000+int64(i*10+j), 0).UTC().Format(time.RFC3339)),
				Value: &types.DataValue{StringValue: aws.String(m("tsval"))}})
		}
		out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: ws, Entries: []types.PropertyValueEntry{{
			EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String(m("entid")), ComponentName: aws.String(m("comp")), PropertyName: aws.String("events")},
			PropertyValues:          vals}}})
		if err != nil || len(out.ErrorEntries) > 0 {
			t.Fatalf("BatchPutPropertyValues: %v %+v", err, out)
		}
	}
	// Everything reads back, so the markers were stored.
	e, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String(m("entid"))})
	if err != nil || *e.Components[m("comp")].Properties[m("ctprop")].Value.StringValue != m("strval") {
		t.Fatalf("GetEntity: %v", err)
	}

	// Credentials: a user's secret access key, an MFA seed (as the Base32
	// text users see and as the bytes' base64), and a session's secret and
	// token.
	admin := srv.IAM(srv.AWSConfig())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keeper")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keeper")})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("keeper")})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(dev.VirtualMFADevice.Base32StringSeed))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srv.STS(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	// An object: its bucket, key, metadata and body.
	s3c := srv.S3(srv.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("qzxbucketmark")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("qzxbucketmark"), Key: aws.String(m("objkey") + "/scene.json"),
		Metadata: map[string]string{"note": m("objmeta")}, Body: strings.NewReader(strings.Repeat(m("objbody"), 20000))}); err != nil {
		t.Fatal(err)
	}
	markers = append(markers, "qzxbucketmark", m("objkey"), m("objmeta"), m("objbody"))
	// An object sealed with a customer key (SSE-C): neither the key nor
	// its base64 is kept.
	ck := []byte(fmt.Sprintf("%-32.32s", m("ssec")))
	ck64 := base64.StdEncoding.EncodeToString(ck)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("qzxbucketmark"), Key: aws.String("ssec.bin"), Body: strings.NewReader(m("ssecbody")),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(ck64), SSECustomerKeyMD5: aws.String(keyMD5(ck))}); err != nil {
		t.Fatal(err)
	}
	markers = append(markers, string(ck), ck64, m("ssecbody"))
	secrets := append(markers, srv.SecretKey, *key.AccessKey.SecretAccessKey, string(dev.VirtualMFADevice.Base32StringSeed),
		base64.StdEncoding.EncodeToString(seed), *sess.Credentials.SecretAccessKey, *sess.Credentials.SessionToken)
	cfg := srv.Config()
	scan := func(when string) {
		n := 0
		check := func(where string, data []byte) {
			n++
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) || bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(s))) {
					t.Errorf("%s: %s holds %q in plaintext", when, where, s)
				}
			}
		}
		err := filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			check(path, data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A scaled-out node keeps its store in PostgreSQL and its bodies in
		// an object store: what an operator of either could read.
		if cfg.Storage == node.StoragePostgres {
			check("pg_dump of schema "+cfg.PostgresSchema, pgDump(t, cfg.PostgresDSN, cfg.PostgresSchema))
		}
		if cfg.Objects == node.ObjectsS3 {
			objects := 0
			for key, body := range objectStore(t, cfg.S3) {
				check("object "+key, append([]byte(key+"\n"), body...))
				objects++
			}
			if objects < 2 {
				t.Fatalf("%s: only %d objects in the object store", when, objects)
			}
		}
		if n < 3 {
			t.Fatalf("%s: only %d files under the data directory", when, n)
		}
	}
	scan("while serving")
	srv.Stop(t)
	scan("after shutdown")
}

// pgDump is the plain-SQL dump of one schema, as pg_dump writes it.
func pgDump(t *testing.T, dsn, schema string) []byte {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
		if len(found) == 0 {
			t.Fatal("no pg_dump: install postgresql-client")
		}
		bin = found[len(found)-1]
	}
	out, err := exec.Command(bin, "--schema="+schema, "--no-owner", "-d", dsn).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(out, []byte("COPY "+schema+".")) {
		t.Fatalf("pg_dump holds no table of schema %s", schema)
	}
	return out
}

// objectStore yields every object under the node's prefix, read through
// the store's own API.
func objectStore(t *testing.T, cfg tvs3.Config) iter.Seq2[string, []byte] {
	t.Helper()
	ctx := context.Background()
	c, err := tvs3.Client(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return func(yield func(string, []byte) bool) {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &cfg.Bucket, Prefix: &cfg.Prefix})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &cfg.Bucket, Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !yield(*o.Key, body) {
					return
				}
			}
		}
	}
}
