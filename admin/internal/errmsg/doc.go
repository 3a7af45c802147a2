// Package errmsg words the errors of Keyward's services for the people
// who read the admin surfaces: the admin API's problem details and the
// console's pages; FieldOf names the field a validation problem is about,
// for both.
package errmsg
