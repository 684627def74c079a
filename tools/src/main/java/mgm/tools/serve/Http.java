package mgm.tools.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;

/** Writing whole responses and error objects. */
final class Http {
    static final String JSON_TYPE = "application/json";

    private Http() {}

    static void send(Response response, int status, String contentType, byte[] body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        Content.Sink.write(response, true, ByteBuffer.wrap(body));
    }

    static void sendJson(Response response, int status, JsonNode body) throws IOException {
        send(response, status, JSON_TYPE, json(body));
    }

    /** The error as OpenAI writes it, with Retry-After and WWW-Authenticate where they belong. */
    static void sendError(Response response, ApiError e) throws IOException {
        if (e.retryAfterSeconds > 0) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, e.retryAfterSeconds);
        }
        if (e.status == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        }
        sendJson(response, e.status, e.toJson());
    }

    static byte[] json(JsonNode node) {
        try {
            return JsonBodies.JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
