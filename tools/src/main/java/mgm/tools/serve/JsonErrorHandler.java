package mgm.tools.serve;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/** Jetty's own errors (a malformed HTTP request, headers too large) as OpenAI-style JSON instead of an HTML page. */
final class JsonErrorHandler extends ErrorHandler {
    JsonErrorHandler() {
        setShowStacks(false);
        setShowCauses(false);
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        ApiError e = error(code, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, Http.JSON_TYPE);
        response.write(true, ByteBuffer.wrap(Http.json(e.toJson())), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, Http.JSON_TYPE);
        return ByteBuffer.wrap(Http.json(error(status, reason).toJson()));
    }

    private static ApiError error(int code, String message) {
        String text = message == null || message.isBlank() ? "HTTP error " + code : message;
        return new ApiError(code, code >= 500 ? "server_error" : ApiError.INVALID_REQUEST, text, null, null, 0);
    }
}
