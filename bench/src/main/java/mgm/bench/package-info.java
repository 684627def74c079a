/** bench module. */
package mgm.bench;
