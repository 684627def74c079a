/** model module. */
package mgm.model;
