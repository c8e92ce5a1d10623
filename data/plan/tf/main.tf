# The sample fleet's Terraform module: shd-apply writes
# RESOURCE.auto.tfvars.json here (db-1.auto.tfvars.json, ...) and
# `terraform apply` picks it up. terraform_data stands in for the provider
# a real module hands the values to.
#
# A variable holds a number (cores, bytes, a count) or, with
# "format": "quantity" in the configuration, the string Kubernetes writes
# ("750m", "768Mi"), as a kubernetes or helm provider takes it:
#
#   "variables": { "cpu": "db_cpu",
#                  "memory": { "name": "db_memory", "format": "quantity" } }
#
# The validation rules refer to their own variable only, as Terraform
# before 1.9 requires.

# The database (resource db-1): cores as a number, memory as a quantity.
variable "db_cpu" {
  type    = number
  default = 2
}

variable "db_memory" {
  type    = string
  default = "4Gi"
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$", var.db_memory))
    error_message = "The db_memory value must be a Kubernetes quantity such as \"768Mi\" or \"2Gi\"."
  }
}

# The cache (resource cache-1): replicas as a number, cpu as a quantity.
variable "cache_replicas" {
  type    = number
  default = 2
}

variable "cache_cpu" {
  type    = string
  default = "500m"
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$", var.cache_cpu))
    error_message = "The cache_cpu value must be a Kubernetes quantity such as \"500m\" or \"2\"."
  }
}

resource "terraform_data" "db" {
  input = { cpu = var.db_cpu, memory = var.db_memory }
}

resource "terraform_data" "cache" {
  input = { replicas = var.cache_replicas, cpu = var.cache_cpu }
}

output "db_cpu" {
  value = terraform_data.db.output.cpu
}

output "db_memory" {
  value = terraform_data.db.output.memory
}

output "cache_replicas" {
  value = terraform_data.cache.output.replicas
}

output "cache_cpu" {
  value = terraform_data.cache.output.cpu
}
