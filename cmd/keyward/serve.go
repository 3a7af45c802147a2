package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is a running keyward serve.
type Server struct {
	// PublicURL and AdminURL are where the listeners really are (tests use
	// port 0).
	PublicURL, AdminURL string
	// SetupURL is the one-time console setup link ("" once an admin exists).
	SetupURL string

	public, admin *http.Server
}

// serve is "keyward serve".
func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve")
	m.Config.bindServe(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		return usagef("serve: unexpected argument %q", fs.Args()[0])
	}
	start := time.Now()
	log := m.log()

	// Every problem is reported together: settings, certificates, ports, database.
	invalid := m.Config.ValidateServe()
	pubTLS, admTLS, tlsErr := m.loadTLS(log)
	pubLn, admLn, lnErr := m.listen()
	db, err := m.openValidated(ctx, errors.Join(invalid, tlsErr, lnErr))
	if err != nil {
		// Free the ports we opened now; Close would, but a caller may retry at once.
		for _, ln := range []net.Listener{pubLn, admLn} {
			if ln != nil && ln != m.PublicListener && ln != m.AdminListener {
				ln.Close()
			}
		}
		return err
	}
	if d := m.Config.LogFlushInterval; d > 0 {
		// Every line is written when serve returns, however it returns.
		defer m.logOut.buffer(d)()
	}
	secret, err := m.loadSecret()
	if err != nil {
		return err
	}
	if m.Config.NoMigrate {
		pending, err := db.Pending(ctx)
		if err != nil {
			return fmt.Errorf("check migrations: %w", err)
		}
		if pending {
			return usagef("--no-migrate: the database schema is behind this version; run keyward migrate first")
		}
	} else if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := checkSecret(ctx, db, secret); err != nil {
		return err
	}
	undoLimit, err := m.applyMemoryLimit(log)
	if err != nil {
		return usageError{err}
	}
	defer undoLimit()
	defer m.tuneGC()()

	metrics := newMetrics()
	if m.tracing, err = m.startTracing(ctx, log); err != nil {
		return err
	}
	app, err := m.build(ctx, m.tracing.database(db), secret, metrics)
	if err != nil {
		return err
	}
	metrics.watch(db, app.signing)

	gin.SetMode(gin.ReleaseMode)
	pub := gin.New()
	if err := pub.SetTrustedProxies(m.Config.proxies()); err != nil {
		return usageError{fmt.Errorf("--trusted-proxies: %w", err)}
	}
	pub.Use(m.tracing.middleware("public")...)
	proxies := len(m.Config.proxies()) > 0
	pub.Use(accessLog(m.requestLog(), "public", metrics.requests, proxies), gin.CustomRecovery(recovered(log)))
	pub.ContextWithFallback = true
	pub.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	pub.GET("/readyz", readyz(db))
	app.mountPublic(pub)

	adm := gin.New()
	if err := adm.SetTrustedProxies(m.Config.proxies()); err != nil {
		return usageError{fmt.Errorf("--trusted-proxies: %w", err)}
	}
	adm.Use(m.tracing.middleware("admin")...)
	adm.Use(accessLog(m.requestLog(), "admin", metrics.requests, proxies), gin.CustomRecovery(recovered(log)))
	adm.ContextWithFallback = true
	adm.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	adm.GET("/readyz", readyz(db))
	adm.GET("/metrics", gin.WrapH(promhttp.HandlerFor(metrics.reg, promhttp.HandlerOpts{})))
	app.mountAdmin(adm)

	srv := &Server{public: newHTTPServer(pub, pubTLS), admin: newHTTPServer(adm, admTLS)}
	srv.PublicURL, srv.AdminURL = baseURL(pubLn, pubTLS), baseURL(admLn, admTLS)
	srv.SetupURL = app.setupURL(ctx, publishedAdminURL(srv.AdminURL, m.Config.Issuer))

	errc := make(chan error, 2)
	go func() { errc <- serveOn(srv.public, pubLn) }()
	go func() { errc <- serveOn(srv.admin, admLn) }()
	bgctx, stopBG := context.WithCancel(context.Background())
	bgDone := app.runBackground(bgctx)
	if m.Config.PprofAddr != "" {
		_, stopPprof, err := startPprof(m.Config.PprofAddr, log)
		if err != nil {
			log.Warn(err.Error())
		} else {
			defer stopPprof()
		}
	}

	fmt.Fprintf(m.Stdout, "Keyward %s is ready in %s\n", Version, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(m.Stdout, "  public URL: %s (issuer %s)\n", srv.PublicURL, m.Config.Issuer)
	fmt.Fprintf(m.Stdout, "  admin URL:  %s\n", srv.AdminURL)
	if srv.SetupURL != "" {
		fmt.Fprintf(m.Stdout, "  no admin user yet; create one at this one-time link:\n    %s\n", srv.SetupURL)
	}
	log.Info("serving", "public", srv.PublicURL, "admin", srv.AdminURL, "issuer", m.Config.Issuer)
	warnIssuer(log, m.Config.Issuer, pubTLS != nil)
	if m.SetMemoryLimit {
		log.Debug("start-up pages of the executable dropped", "bytes", dropStartupPages())
	}
	if m.Started != nil {
		m.Started <- srv
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests (a second signal stops at once)")
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shutErr := errors.Join(srv.public.Shutdown(sctx), srv.admin.Shutdown(sctx))
	stopBG()
	<-bgDone
	app.close()
	if err := m.tracing.close(); err != nil {
		log.Warn(err.Error())
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if shutErr != nil {
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	log.Info("stopped")
	return nil
}

// listen opens the listeners the caller did not give, each whose address
// is valid, and reports every one that fails.
func (m *Main) listen() (pub, adm net.Listener, err error) {
	var errs []error
	open := func(given net.Listener, flag, addr string) net.Listener {
		if given != nil {
			return given
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil // ValidateServe reports it
		}
		if flag == "--admin-addr" && addr == m.Config.PublicAddr && !strings.HasSuffix(addr, ":0") {
			return nil // ValidateServe reports it
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, addr, listenErr(err)))
			return nil
		}
		m.onClose(ignoreClosed(ln.Close))
		return ln
	}
	pub = open(m.PublicListener, "--public-addr", m.Config.PublicAddr)
	adm = open(m.AdminListener, "--admin-addr", m.Config.AdminAddr)
	return pub, adm, errors.Join(errs...)
}

// newHTTPServer returns the server of a listener: over TLS, with HSTS,
// when certs is not nil.
func newHTTPServer(h http.Handler, certs *certReloader) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if certs != nil {
		srv.Handler, srv.TLSConfig = hsts(h), tlsConfig(certs)
	}
	return srv
}

func readyz(db database) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "database": "unreachable"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok", "database": "ok"})
	}
}

// recovered answers a panic with a bare 500 and logs it, never a stack
// trace to the client.
func recovered(log interface {
	Error(msg string, args ...any)
}) gin.RecoveryFunc {
	return func(c *gin.Context, err any) {
		log.Error("panic in handler", "err", fmt.Sprint(err), "path", c.Request.URL.Path)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error"})
	}
}

func listenErr(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func ignoreClosed(f func() error) func() error {
	return func() error {
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

func nowUTC() time.Time { return time.Now().UTC() }
