package mgm.tools.serve;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import mgm.loaders.chat.ConversationTemplate;
import mgm.model.MgmModel;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * The HTTP server of {@code mgm-run serve}: Jetty 12 (core API, a virtual thread per request) in
 * front of one model that one platform thread runs. {@link #start} listens at once and loads the
 * model on the generation thread; until it is loaded, {@code /health} answers 503 "loading".
 */
public final class MgmServer implements AutoCloseable {
    /** Set by {@code --debug} / MGM_DEBUG: internal errors print their stack trace on the server's stderr. */
    static volatile boolean debug;

    /** What the server needs from a loaded model; {@code owner} (may be null) is closed with the server. */
    public record Loaded(MgmModel model, ConversationTemplate template, AutoCloseable owner) {}

    private final ServerConfig config;
    private final GenerationQueue queue;
    private final Metrics metrics;
    private final Server jetty;
    private final ServerConnector connector;
    private final CompletableFuture<Loaded> loaded;
    private final long createdSeconds = System.currentTimeMillis() / 1000;
    private volatile ChatModel chatModel;
    private volatile boolean stopping;

    private MgmServer(ServerConfig config, Callable<Loaded> loader) throws IOException {
        this.config = config;
        this.queue = new GenerationQueue(config.queue());
        this.metrics = new Metrics(queue::waiting, () -> queue.busy() ? 1 : 0, config.queue());
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("mgm-http");
        this.jetty = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        this.connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(config.host());
        connector.setPort(config.port());
        connector.setIdleTimeout(120_000); // a stalled reader fails its stream after this; waiting requests are not affected
        jetty.addConnector(connector);
        jetty.setErrorHandler(new JsonErrorHandler());
        jetty.setHandler(new ApiHandler(this, config, queue, metrics));
        try {
            jetty.start();
        } catch (Exception e) {
            queue.close();
            stopJetty();
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof BindException) {
                    throw new BindException("cannot listen on " + config.host() + ":" + config.port() + ": "
                            + c.getMessage());
                }
            }
            throw e instanceof IOException io ? io : new IOException("cannot start the HTTP server: " + e, e);
        }
        this.loaded = queue.call(() -> {
            Loaded l = loader.call();
            chatModel = new ChatModel(l.model(), l.template(), config);
            return l;
        });
    }

    /**
     * Listens on {@code config}'s address and loads the model with {@code loader} on the generation
     * thread. Throws a {@link BindException} (with the address) when the port cannot be used.
     */
    public static MgmServer start(ServerConfig config, Callable<Loaded> loader) throws IOException {
        return new MgmServer(config, loader);
    }

    /** Waits until the model is loaded; rethrows what the loader threw (the server keeps running: close it). */
    public void awaitLoaded() throws InterruptedException {
        try {
            loaded.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The port it listens on (the chosen one when the config said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(config.host(), port());
    }

    public ServerConfig config() {
        return config;
    }

    GenerationQueue queue() {
        return queue;
    }

    ChatModel chatModel() {
        return chatModel;
    }

    boolean isStopping() {
        return stopping;
    }

    long createdSeconds() {
        return createdSeconds;
    }

    /** Blocks until the server is stopped. */
    public void join() throws InterruptedException {
        jetty.join();
    }

    /**
     * Stops: new requests get 503, admitted ones are cancelled (503), the running generation stops at
     * its next token, the model is closed on its own thread, and the listener closes.
     */
    @Override
    public void close() {
        stopping = true;
        queue.close(() -> { // runs on the generation thread after whatever it was doing, loading included
            if (chatModel != null) {
                chatModel.close();
            }
            chatModel = null;
            Loaded l = loaded.isCompletedExceptionally() ? null : loaded.getNow(null);
            if (l != null && l.owner() != null) {
                try {
                    l.owner().close();
                } catch (Exception e) {
                    System.err.println("mgm-run serve: closing the model failed: " + e);
                }
            }
        });
        stopJetty();
    }

    private void stopJetty() {
        try {
            jetty.setStopTimeout(2_000);
            jetty.stop();
        } catch (Exception e) {
            System.err.println("mgm-run serve: stopping the HTTP server failed: " + e);
        }
    }
}
