package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/twinvault/twinvault/node"
)

// loadConfig is what `twinvault load` takes.
type loadConfig struct {
	endpoint, caBundle, profile, region, workspace, dataDir string
	series, concurrency, entries, values                    int
	deep                                                    int
	serverPID                                               int
	duration                                                time.Duration
	page                                                    int
}

// load drives a running server through the AWS SDK over HTTPS with SigV4
// and reports, against a baseline measured in the same run (the cheapest
// authenticated call, GetWorkspace), the ingest rate of
// BatchPutPropertyValues and the latency of GetPropertyValueHistory pages.
func load(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c loadConfig
	fs.StringVar(&c.endpoint, "endpoint-url", "https://localhost:8443", "server endpoint; several nodes of one deployment comma-separated, called in turn")
	fs.StringVar(&c.caBundle, "ca-bundle", filepath.Join(node.DefaultDataDir, "tls", "ca.pem"), "CA certificate that signed the server's certificate")
	fs.StringVar(&c.profile, "profile", os.Getenv("AWS_PROFILE"), "credentials profile (the standard AWS chain otherwise)")
	fs.StringVar(&c.region, "region", node.DefaultRegion, "region")
	fs.StringVar(&c.workspace, "workspace", "load", "workspace to create (if missing) and fill")
	fs.IntVar(&c.series, "series", 100, "number of series written to")
	fs.IntVar(&c.concurrency, "concurrency", 8, "concurrent clients, each with its own connection")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	fs.IntVar(&c.entries, "entries", 10, "entries per BatchPutPropertyValues request (1..10)")
	fs.IntVar(&c.values, "values", 10, "values per entry (1..10)")
	fs.IntVar(&c.page, "page", 25, "values per history page (maxResults, 1..200; TwinMaker's default is 25)")
	fs.IntVar(&c.deep, "deep-series", 0, "before the history phase, grow one series to this many points and read pages at random depths of it")
	fs.StringVar(&c.dataDir, "data-dir", "", "the server's data directory, to report bytes on disk per point")
	fs.IntVar(&c.serverPID, "server-pid", 0, "the server's process ID, when it runs on this machine: report the CPU time it and the tool spent per call")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if c.entries < 1 || c.entries > 10 || c.values < 1 || c.values > 10 || c.series < 1 || c.concurrency < 1 || c.duration <= 0 || c.page < 1 || c.page > 200 {
		fmt.Fprintln(stderr, "twinvault load: --entries and --values take 1..10, --page 1..200; --series, --concurrency and --duration must be positive")
		return 2
	}
	if err := runLoad(context.Background(), c, stdout); err != nil {
		fmt.Fprintf(stderr, "twinvault load: %v\n", err)
		return 1
	}
	return 0
}

func loadClient(ctx context.Context, c loadConfig) (*iottwinmaker.Client, error) {
	ca, err := os.Open(c.caBundle)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	defer ca.Close()
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.region), config.WithCustomCABundle(ca)}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return iottwinmaker.NewFromConfig(cfg, func(o *iottwinmaker.Options) {
		o.BaseEndpoint = aws.String(c.endpoint)
		o.RetryMaxAttempts = 1
		// The tool needs no api./data. host names in DNS.
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	}), nil
}

// loadClients returns the SDK clients of each concurrent client, one per
// node; each call goes to the next node, so writes land on every node and
// reads see them through the others. Each concurrent client has its own
// connections, as separate devices and applications do: over one shared
// HTTP/2 connection, every call would queue behind the others' frames in
// one reader and one writer on each side.
func loadClients(ctx context.Context, c loadConfig) ([][]*iottwinmaker.Client, error) {
	clients := make([][]*iottwinmaker.Client, c.concurrency)
	for w := range clients {
		for _, ep := range strings.Split(c.endpoint, ",") {
			cc := c
			cc.endpoint = strings.TrimSpace(ep)
			cl, err := loadClient(ctx, cc)
			if err != nil {
				return nil, err
			}
			clients[w] = append(clients[w], cl)
		}
	}
	return clients, nil
}

const loadEntities = 10 // series are spread over this many entities

func seriesName(i int) (entity, prop string) {
	return fmt.Sprintf("load-%d", i%loadEntities), fmt.Sprintf("p%d", i/loadEntities)
}

// setup creates the workspace, a component type with enough double
// time-series properties and the entities, unless they exist.
func setup(ctx context.Context, tm *iottwinmaker.Client, c loadConfig) error {
	ws := aws.String(c.workspace)
	var nf *types.ResourceNotFoundException
	if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: ws}); errors.As(err, &nf) {
		if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	props := map[string]types.PropertyDefinitionRequest{}
	for i := 0; i < c.series; i += loadEntities {
		_, p := seriesName(i)
		props[p] = types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}
	}
	ct := aws.String("com.twinvault.load")
	var ce *types.ConflictException
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: ct, PropertyDefinitions: props}); errors.As(err, &ce) {
		if _, err := tm.UpdateComponentType(ctx, &iottwinmaker.UpdateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: ct, PropertyDefinitions: props}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for i := range loadEntities {
		e, _ := seriesName(i)
		_, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(e), EntityName: aws.String(e),
			Components: map[string]types.ComponentRequest{"load": {ComponentTypeId: ct}}})
		if err != nil && !errors.As(err, &ce) {
			return err
		}
	}
	return nil
}

// latencies are what one phase measured: each call as the client saw it,
// the server's own share from its Server-Timing header, and the time the
// phase ran.
type latencies struct {
	client, server []time.Duration
	elapsed        time.Duration
	// toolCPU and serverCPU are the CPU time the tool and the server
	// (--server-pid) spent while the phase ran, unless cpuLost: a turn's
	// could not be read.
	toolCPU, serverCPU time.Duration
	cpuLost            bool
}

// cpuPerCall is the CPU time per call of the tool and of the server.
func (l *latencies) cpuPerCall() (tool, server time.Duration) {
	n := time.Duration(max(len(l.client), 1))
	return l.toolCPU / n, l.serverCPU / n
}

func (l *latencies) sort() {
	slices.Sort(l.client)
	slices.Sort(l.server)
}

// busy is the share of the machine's CPUs the tool and the server used
// while the phase ran: both run on it when --server-pid is given.
func (l *latencies) busy() float64 {
	return float64(l.toolCPU+l.serverCPU) / float64(max(l.elapsed, 1)) / float64(runtime.NumCPU())
}

// rate is the phase's calls per second.
func (l *latencies) rate() float64 { return float64(len(l.client)) / max(l.elapsed.Seconds(), 1e-9) }

// call is one request of a phase from concurrent client w; it returns the server's time for it,
// or errNoCall when it made none.
type call func(ctx context.Context, w int) (time.Duration, error)

// errNoCall is a call's answer when it had nothing to ask: nothing is
// counted.
var errNoCall = errors.New("no call made")

// turns is how many turns a phase and its baseline take each.
const turns = 10

// paired runs fn and the baseline call in turns, each for a tenth of
// c.duration at a time, in the order ABBA ABBA..., so that both see the
// same server and machine: a store still compacting what an earlier phase
// wrote, a neighbour's load, the page cache. A baseline measured once, on
// a fresh server, would flatter every later phase's ratio or wrong it.
func paired(ctx context.Context, c loadConfig, fn, base call) (got, baseline *latencies, err error) {
	got, baseline = &latencies{}, &latencies{}
	d := max(c.duration/turns, time.Millisecond)
	for i := range 2 * turns {
		f, into := fn, got
		if (i+1)/2%2 == 1 {
			f, into = base, baseline
		}
		if err := phase(ctx, c, d, f, into); err != nil {
			return nil, nil, err
		}
	}
	got.sort()
	baseline.sort()
	return got, baseline, nil
}

// phase runs fn from c.concurrency goroutines for d and adds what it
// measured to lat.
func phase(ctx context.Context, c loadConfig, d time.Duration, fn call, lat *latencies) error {
	start := time.Now()
	tool0, server0, cpuErr := cpuTimes(c.serverPID)
	defer func() {
		lat.elapsed += time.Since(start)
		tool1, server1, err := cpuTimes(c.serverPID)
		if cpuErr != nil || err != nil {
			lat.cpuLost = true // a turn's calls without its CPU time
			return
		}
		lat.toolCPU += tool1 - tool0
		lat.serverCPU += server1 - server0
	}()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for ctx.Err() == nil {
				start := time.Now()
				srv, err := fn(context.Background(), w)
				if err == errNoCall {
					continue
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					cancel()
					break
				}
				mine.client = append(mine.client, time.Since(start))
				mine.server = append(mine.server, srv)
			}
			mu.Lock()
			lat.client = append(lat.client, mine.client...)
			lat.server = append(lat.server, mine.server...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

// serverTime reads the server's Server-Timing header off a call's result.
func serverTime(md middleware.Metadata) time.Duration {
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		return 0
	}
	var ms float64
	if _, err := fmt.Sscanf(resp.Header.Get("Server-Timing"), "app;dur=%g", &ms); err != nil {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(float64(len(lat))*p))]
}

func runLoad(ctx context.Context, c loadConfig, out io.Writer) error {
	clients, err := loadClients(ctx, c)
	if err != nil {
		return err
	}
	var turnNode atomic.Int64
	pick := func(w int) *iottwinmaker.Client { return clients[w][int(turnNode.Add(1)-1)%len(clients[w])] }
	tm := clients[0][0]
	if err := setup(ctx, tm, c); err != nil {
		return fmt.Errorf("set up the workspace: %w", err)
	}
	ws := aws.String(c.workspace)
	fmt.Fprintf(out, "twinvault load: %s, %d clients, %s per phase, %d series, %d×%d values per request\n\n",
		c.endpoint, c.concurrency, c.duration, c.series, c.entries, c.values)

	base := func(ctx context.Context, w int) (time.Duration, error) {
		out, err := pick(w).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: ws})
		if err != nil {
			return 0, fmt.Errorf("baseline: %w", err)
		}
		return serverTime(out.ResultMetadata), nil
	}

	// Each series advances its own clock one second per point, starting
	// where earlier runs left off would need a read; a fresh start time per
	// run keeps runs apart instead.
	origin := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	next := make([]atomic.Int64, c.series)
	var points atomic.Int64
	var turn atomic.Int64
	// The tool builds requests cheaply, as a device would, so that what it
	// measures is the server: names made once, a request's values and times
	// in a few blocks, not one allocation each.
	refs := make([]types.EntityPropertyReference, c.series)
	for i := range refs {
		e, p := seriesName(i)
		refs[i] = types.EntityPropertyReference{EntityId: aws.String(e), ComponentName: aws.String("load"), PropertyName: aws.String(p)}
	}
	ingest, ingestBase, err := paired(ctx, c, func(ctx context.Context, w int) (time.Duration, error) {
		entries := make([]types.PropertyValueEntry, c.entries)
		n := c.entries * c.values
		vals, dvs, fs := make([]types.PropertyValue, n), make([]types.DataValue, n), make([]float64, n)
		times := make([]byte, 0, n*len(time.RFC3339))
		ends := make([]int, n)
		for k := range entries {
			i := int(turn.Add(1)-1) % c.series
			first := next[i].Add(int64(c.values)) - int64(c.values)
			for j := range c.values {
				x := k*c.values + j
				times = appendSecond(times, origin.Add(time.Duration(first+int64(j))*time.Second))
				ends[x] = len(times)
				fs[x] = 20 + float64((first+int64(j))%600)/10
				dvs[x].DoubleValue = &fs[x]
				vals[x].Value = &dvs[x]
			}
			entries[k] = types.PropertyValueEntry{EntityPropertyReference: &refs[i], PropertyValues: vals[k*c.values : (k+1)*c.values]}
		}
		all, start := string(times), 0
		ts := make([]string, n)
		for x := range vals {
			ts[x], start = all[start:ends[x]], ends[x]
			vals[x].Time = &ts[x]
		}
		res, err := pick(w).BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: ws, Entries: entries})
		if err != nil {
			return 0, err
		}
		if len(res.ErrorEntries) > 0 {
			return 0, fmt.Errorf("%d entries failed: %s", len(res.ErrorEntries), aws.ToString(res.ErrorEntries[0].Errors[0].ErrorMessage))
		}
		points.Add(int64(c.entries * c.values))
		return serverTime(res.ResultMetadata), nil
	}, base)
	if err != nil {
		return fmt.Errorf("ingest phase: %w", err)
	}
	if points.Load() == 0 {
		return errors.New("ingest phase: no values written; give it a longer --duration")
	}

	if c.deep > 0 {
		if err := growDeep(ctx, clients, c, origin, &next[0], &points); err != nil {
			return fmt.Errorf("deep series: %w", err)
		}
		fmt.Fprintf(out, "history pages read at random depths of a series of %d points\n", next[0].Load())
	}
	history, historyBase, err := paired(ctx, c, func(ctx context.Context, w int) (time.Duration, error) {
		i := rand.IntN(c.series)
		if c.deep > 0 {
			i = 0
		}
		n := next[i].Load()
		if n == 0 {
			return 0, errNoCall // a series the ingest did not reach
		}
		e, p := seriesName(i)
		from := origin.Add(time.Duration(rand.Int64N(n)) * time.Second)
		out, err := pick(w).GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: ws, EntityId: aws.String(e),
			ComponentName: aws.String("load"), SelectedProperties: []string{p}, MaxResults: aws.Int32(int32(c.page)),
			StartTime: aws.String(from.UTC().Format(time.RFC3339Nano)), EndTime: aws.String(origin.Add(time.Duration(n) * time.Second).UTC().Format(time.RFC3339Nano))})
		if err != nil {
			return 0, err
		}
		return serverTime(out.ResultMetadata), nil
	}, base)
	if err != nil {
		return fmt.Errorf("history phase: %w", err)
	}

	row := func(name string, l *latencies, vs string) {
		fmt.Fprintf(out, "%-32s %8.0f %9s %9s %9s %9s %12s\n", name, l.rate(),
			pct(l.client, .5).Round(time.Microsecond), pct(l.client, .99).Round(time.Microsecond),
			pct(l.server, .5).Round(time.Microsecond), pct(l.server, .99).Round(time.Microsecond), vs)
	}
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }
	fmt.Fprintf(out, "\nEach phase takes turns with a baseline of GetWorkspace calls, a tenth of the time at a time.\n")
	fmt.Fprintf(out, "%-32s %8s %9s %9s %9s %9s %12s\n", "phase", "req/s", "p50", "p99", "server50", "server99", "vs baseline")
	row("baseline: GetWorkspace", ingestBase, "1.00")
	row("ingest: BatchPutPropertyValues", ingest, fmt.Sprintf("%.2f× rate", ingest.rate()/ingestBase.rate()))
	row("baseline: GetWorkspace", historyBase, "1.00")
	row(fmt.Sprintf("history: %d-value pages", c.page), history, fmt.Sprintf("%.2f× p50", ratio(pct(history.client, .5), pct(historyBase.client, .5))))
	fmt.Fprintf(out, "\ningest: %.0f values/s (%d values in all); request rate %.0f%% of the baseline's\n", ingest.rate()*float64(c.entries*c.values), points.Load(), 100*ingest.rate()/ingestBase.rate())
	fmt.Fprintf(out, "history: p50 %.2f× and p99 %.2f× the baseline's latency as the client sees it; server time p50 %.2f×, p99 %.2f× the baseline's\n",
		ratio(pct(history.client, .5), pct(historyBase.client, .5)), ratio(pct(history.client, .99), pct(historyBase.client, .99)),
		ratio(pct(history.server, .5), pct(historyBase.server, .5)), ratio(pct(history.server, .99), pct(historyBase.server, .99)))
	if c.serverPID != 0 && !ingest.cpuLost && !ingestBase.cpuLost && !history.cpuLost && !historyBase.cpuLost {
		fmt.Fprintf(out, "CPU per call, tool + server:\n")
		cpuRow := func(name string, l *latencies) (server time.Duration) {
			tool, server := l.cpuPerCall()
			fmt.Fprintf(out, "  %-30s %6d + %6d µs\n", name, tool.Microseconds(), server.Microseconds())
			return server
		}
		ib, i := cpuRow("baseline: GetWorkspace", ingestBase), cpuRow("ingest: BatchPutPropertyValues", ingest)
		hb, h := cpuRow("baseline: GetWorkspace", historyBase), cpuRow("history pages", history)
		fmt.Fprintf(out, "server CPU per call: a BatchPutPropertyValues %.2f×, a history page %.2f× a GetWorkspace\n", ratio(i, ib), ratio(h, hb))
		bi, bh := ingestBase.busy(), historyBase.busy()
		fmt.Fprintf(out, "CPUs busy with the tool and the server during the baseline: %.0f%% of %d in the ingest phase's turns, %.0f%% in the history phase's\n",
			100*bi, runtime.NumCPU(), 100*bh)
	}
	first, _, _ := strings.Cut(c.endpoint, ",")
	u, err := storageUsage(ctx, &online{endpoint: strings.TrimSpace(first), caBundle: c.caBundle, profile: c.profile, region: c.region}, c.workspace)
	if err != nil {
		return fmt.Errorf("storage usage: %w", err)
	}
	printStorageUsage(out, u)
	if c.dataDir != "" {
		size, err := dirSize(filepath.Join(c.dataDir, "kv"))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "data directory: %d bytes, %.1f per point written so far: the time series with the audit trail of every call, the write-ahead log and all else\n",
			size, float64(size)/float64(max(points.Load(), 1)))
	}
	return nil
}

// appendSecond appends t, a whole second, as RFC 3339 in UTC: what
// AppendFormat(time.RFC3339Nano) writes for it, without reading a layout.
// The tool writes a hundred times a request, and its own work is taken
// from the server's share of the machine.
func appendSecond(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 || t.Nanosecond() != 0 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	two := func(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }
	dst = two(two(dst, y/100), y%100)
	dst = two(append(dst, '-'), int(mo))
	dst = two(append(dst, '-'), d)
	dst = two(append(dst, 'T'), h)
	dst = two(append(dst, ':'), mi)
	dst = two(append(dst, ':'), s)
	return append(dst, 'Z')
}

// growDeep writes series 0 up to c.deep points, 100 a request, from
// c.concurrency clients, each over its own connections, to the nodes in
// turn.
func growDeep(ctx context.Context, clients [][]*iottwinmaker.Client, c loadConfig, origin time.Time, next, points *atomic.Int64) error {
	e, p := seriesName(0)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; firstErr.Load() == nil; i++ {
				first := next.Add(100) - 100
				if first >= int64(c.deep) {
					next.Add(-100)
					return
				}
				var entries []types.PropertyValueEntry
				for k := range 10 {
					vals := make([]types.PropertyValue, 10)
					for j := range vals {
						n := first + int64(k*10+j)
						vals[j] = types.PropertyValue{Time: aws.String(origin.Add(time.Duration(n) * time.Second).UTC().Format(time.RFC3339Nano)),
							Value: &types.DataValue{DoubleValue: aws.Float64(20 + float64(n%600)/10)}}
					}
					entries = append(entries, types.PropertyValueEntry{EntityPropertyReference: &types.EntityPropertyReference{
						EntityId: aws.String(e), ComponentName: aws.String("load"), PropertyName: aws.String(p)}, PropertyValues: vals})
				}
				tm := clients[w][i%len(clients[w])]
				if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(c.workspace), Entries: entries}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				points.Add(100)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // let the compactor settle, as a quiet server would
	return nil
}

// cpuTimes returns the CPU time, user and system, that this process and
// the process pid (none when 0) have used, from Linux's /proc.
func cpuTimes(pid int) (tool, server time.Duration, err error) {
	if tool, err = procCPU("self"); err != nil || pid == 0 {
		return tool, 0, err
	}
	server, err = procCPU(strconv.Itoa(pid))
	return tool, server, err
}

// procCPU reads utime and stime, the 14th and 15th fields of
// /proc/<pid>/stat, in clock ticks, which Linux shows at 100 a second.
func procCPU(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(data)
}

// parseProcStat reads the CPU time out of a /proc/<pid>/stat line. The
// second field, the command name in parentheses, may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
func parseProcStat(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, errors.New("malformed /proc stat")
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
