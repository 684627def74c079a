/**
 * MGM's conversation templates ({@link mgm.loaders.chat.ConversationTemplates}), rendered byte-exactly
 * by {@link mgm.loaders.chat.Conversation}, chosen per checkpoint by {@link mgm.loaders.chat.TemplateSelector},
 * with the ids that end a reply from {@link mgm.loaders.chat.StopTokens}.
 */
package mgm.loaders.chat;
