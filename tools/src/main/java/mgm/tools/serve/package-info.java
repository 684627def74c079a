/**
 * {@code mgm-run serve}: MGM behind OpenAI's chat completions API, with a web chat page.
 *
 * <h2>Endpoints</h2>
 * <ul>
 * <li>{@code POST /v1/chat/completions}: OpenAI's request and response formats. Messages have string
 *     content or content parts ({@code text}, {@code image_url} with a {@code data:} URI, or a
 *     {@code file://} URL when the server runs with {@code --allow-local-files}); {@code stream: true}
 *     answers with server-sent events ({@code data: {chunk}} lines, then {@code data: [DONE]});
 *     {@code temperature}, {@code top_p}, {@code max_tokens} (or {@code max_completion_tokens}),
 *     {@code stop} (a string or up to 4), {@code seed}, {@code n} = 1, {@code stream_options.include_usage},
 *     and the extension {@code top_k}. Unknown fields are refused (400); {@code model} is required by
 *     the format but the server answers with its one model whatever name is asked.</li>
 * <li>{@code GET /v1/models}, {@code GET /v1/models/{id}}, {@code GET /health} (503 while loading or
 *     stopping), {@code GET /metrics} (Prometheus text), {@code GET /} (the web chat page).</li>
 * </ul>
 *
 * <h2>How messages become MGM's prompt</h2>
 * See {@link mgm.tools.serve.PromptPlan}: an optional first system (or developer) message replaces
 * the template's system prompt (gemma and plain, which have none, get it in front of the first user
 * message); images go where MGM puts them, {@code <image>\n} at the start of the first user message
 * that has an image, numbered {@code Image k:} when there are several. Answers are stripped as MGM
 * strips them, and cut at the first stop sequence as OpenAI cuts them.
 *
 * <h2>Extension: {@code mgm_timings}</h2>
 * The last chunk of a stream (the one with {@code finish_reason}) and every non-streamed completion
 * carry {@code mgm_timings}: {@code queue_ms}, {@code image_decode_ms}, {@code image_encode_ms},
 * {@code prompt_tokens}, {@code prefill_ms}, {@code prefill_tokens_per_second},
 * {@code completion_tokens}, {@code decode_ms}, {@code decode_tokens_per_second},
 * {@code time_to_first_token_ms}, {@code total_ms}. OpenAI's clients ignore unknown fields.
 *
 * <h2>Load and state</h2>
 * One request generates at a time (the model is single-threaded); up to {@code --queue} wait and
 * more get 429 with Retry-After, before their body is read. A streamed request whose client goes
 * away is cancelled at its next token (or, while waiting, at the next keep-alive comment line).
 * Each request builds its own {@link mgm.model.ChatSession} from its messages and frees it at the
 * end: no conversation, cache or seed survives a request, so replicas behind a load balancer answer
 * alike.
 */
package mgm.tools.serve;
