package mgm.tools.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Routes requests: the web page ({@code /}), {@code /health}, {@code /metrics}, {@code /v1/models}
 * and {@code /v1/chat/completions}. With an API key, {@code /v1/*} and {@code /metrics} need
 * {@code Authorization: Bearer KEY}; the page and {@code /health} stay open (the page asks for
 * the key and sends it). Every error is an OpenAI-style JSON object, never a stack trace.
 */
final class ApiHandler extends Handler.Abstract {
    private static final String CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            + "script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    private final MgmServer server;
    private final ServerConfig config;
    private final Metrics metrics;
    private final ChatCompletions completions;
    private final StaticFiles files = new StaticFiles();
    private final byte[] apiKey;

    ApiHandler(MgmServer server, ServerConfig config, GenerationQueue queue, Metrics metrics) {
        this.server = server;
        this.config = config;
        this.metrics = metrics;
        this.completions = new ChatCompletions(config, queue, metrics);
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        String route = route(path);
        int status;
        try {
            status = dispatch(path, method, request, response);
            callback.succeeded();
        } catch (ApiError e) {
            status = e.status;
            discardBody(request);
            sendError(response, callback, e);
        } catch (ChatCompletions.ClientGone e) {
            status = 499; // nginx's "client closed request"
            callback.failed(e);
        } catch (Throwable e) {
            System.err.println("mgm-run serve: internal error on " + method + " " + path + ": " + e);
            if (MgmServer.debug) {
                e.printStackTrace();
            }
            status = 500;
            sendError(response, callback, ApiError.internal("internal server error (" + e.getClass().getSimpleName() + ")"));
        }
        metrics.request(route, status);
        return true;
    }

    /**
     * Reads what is left of a refused request's body (up to twice the body limit) before answering:
     * a server that closes a connection with unread data makes the peer's TCP stack reset it, and the
     * client then sees a broken connection instead of the 401/413/429.
     */
    private void discardBody(Request request) {
        long left = 2 * config.maxBodyBytes();
        byte[] buffer = new byte[64 << 10];
        try {
            java.io.InputStream in = Request.asInputStream(request);
            int n;
            while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
                left -= n;
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // the client is gone or too slow: the connection closes after the answer anyway
        }
    }

    private void sendError(Response response, Callback callback, ApiError e) {
        if (response.isCommitted()) {
            callback.failed(e); // headers are gone: abort the connection rather than append garbage
            return;
        }
        try {
            response.reset();
            Http.sendError(response, e);
            callback.succeeded();
        } catch (Throwable t) {
            callback.failed(t);
        }
    }

    private int dispatch(String path, String method, Request request, Response response) throws Exception {
        StaticFiles.File file = files.get(path);
        if (file != null) {
            requireMethod(method, "GET", path);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
            response.getHeaders().put("Content-Security-Policy", CSP);
            response.getHeaders().put("X-Content-Type-Options", "nosniff");
            Http.send(response, 200, file.contentType(), file.bytes());
            return 200;
        }
        switch (path) {
            case "/health" -> {
                requireMethod(method, "GET", path);
                return health(response);
            }
            case "/metrics" -> {
                requireMethod(method, "GET", path);
                authorize(request);
                Http.send(response, 200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.exposition().getBytes(StandardCharsets.UTF_8));
                return 200;
            }
            case "/v1/models" -> {
                requireMethod(method, "GET", path);
                authorize(request);
                Http.sendJson(response, 200, OpenAiJson.models(config.modelId(), server.createdSeconds()));
                return 200;
            }
            case "/v1/chat/completions" -> {
                requireMethod(method, "POST", path);
                authorize(request);
                ChatModel model = server.chatModel();
                if (model == null) {
                    throw server.isStopping() ? ApiError.unavailable("the server is stopping")
                            : new ApiError(503, "server_error", "the model is still loading; retry shortly", null,
                            "model_loading", 5);
                }
                return completions.handle(request, response, model);
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    requireMethod(method, "GET", path);
                    authorize(request);
                    String id = path.substring("/v1/models/".length());
                    if (!id.equals(config.modelId())) {
                        throw new ApiError(404, ApiError.INVALID_REQUEST, "The model '" + id + "' does not exist",
                                "model", "model_not_found", 0);
                    }
                    Http.sendJson(response, 200, OpenAiJson.model(id, server.createdSeconds()));
                    return 200;
                }
                throw ApiError.notFound("Invalid URL (" + method + " " + path + ")", "unknown_url");
            }
        }
    }

    private int health(Response response) throws Exception {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        int status;
        if (server.isStopping()) {
            body.put("status", "stopping");
            status = 503;
        } else if (server.chatModel() == null) {
            body.put("status", "loading");
            status = 503;
        } else {
            body.put("status", "ok");
            status = 200;
        }
        body.put("model", config.modelId());
        Http.sendJson(response, status, body);
        return status;
    }

    private static void requireMethod(String method, String allowed, String path) {
        if (!method.equals(allowed)) {
            throw ApiError.methodNotAllowed("Method " + method + " is not allowed on " + path + "; use " + allowed);
        }
    }

    /** Constant-time comparison of the Bearer key. */
    private void authorize(Request request) {
        if (apiKey == null) {
            return;
        }
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header == null || header.isBlank()) {
            throw ApiError.unauthorized("You didn't provide an API key. You need to provide your API key in an "
                    + "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        String given = header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : "";
        if (!MessageDigest.isEqual(apiKey, given.getBytes(StandardCharsets.UTF_8))) {
            throw ApiError.unauthorized("Incorrect API key provided.");
        }
    }

    /** The label for the request counter: a known path, or "other" (paths are client-chosen: no unbounded labels). */
    private String route(String path) {
        if (files.get(path) != null) {
            return "/";
        }
        return switch (path) {
            case "/health", "/metrics", "/v1/models", "/v1/chat/completions" -> path;
            default -> path.startsWith("/v1/models/") ? "/v1/models/{id}" : "other";
        };
    }
}
