/** kernels module. */
package mgm.kernels;
