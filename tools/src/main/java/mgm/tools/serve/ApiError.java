package mgm.tools.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, answered as OpenAI does: the HTTP status and
 * {@code {"error": {"message", "type", "param", "code"}}}. The message is one line meant for the
 * client; it never carries a stack trace.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    static final String INVALID_REQUEST = "invalid_request_error";

    final int status;
    final String type;
    final String param;
    final String code;
    /** Seconds for a Retry-After header, or 0 for none. */
    final long retryAfterSeconds;

    ApiError(int status, String type, String message, String param, String code, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 with OpenAI's invalid_request_error. */
    static ApiError badRequest(String message, String param) {
        return new ApiError(400, INVALID_REQUEST, message, param, null, 0);
    }

    static ApiError badRequest(String message, String param, String code) {
        return new ApiError(400, INVALID_REQUEST, message, param, code, 0);
    }

    static ApiError tooLarge(String message, String param, String code) {
        return new ApiError(413, INVALID_REQUEST, message, param, code, 0);
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, INVALID_REQUEST, message, null, "invalid_api_key", 0);
    }

    static ApiError notFound(String message, String code) {
        return new ApiError(404, INVALID_REQUEST, message, null, code, 0);
    }

    static ApiError methodNotAllowed(String message) {
        return new ApiError(405, INVALID_REQUEST, message, null, "method_not_allowed", 0);
    }

    static ApiError queueFull(String message, long retryAfterSeconds) {
        return new ApiError(429, "rate_limit_error", message, null, "rate_limit_exceeded", retryAfterSeconds);
    }

    static ApiError unavailable(String message) {
        return new ApiError(503, "server_error", message, null, "server_stopping", 1);
    }

    static ApiError internal(String message) {
        return new ApiError(500, "server_error", message, null, null, 0);
    }

    /** The error object OpenAI's clients parse. */
    ObjectNode toJson() {
        return toJson(getMessage(), type, param, code);
    }

    static ObjectNode toJson(String message, String type, String param, String code) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
