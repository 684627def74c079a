/** loaders module. */
package mgm.loaders;
