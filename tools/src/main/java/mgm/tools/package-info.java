/** tools module. */
package mgm.tools;
