# The database of the sample fleet (resource db-1): shd-apply writes
# db-1.auto.tfvars.json here; `terraform apply` picks it up.
variable "db_cpu" {
  type    = number
  default = 2
}

resource "terraform_data" "db" {
  input = { cpu = var.db_cpu }
}

output "db_cpu" {
  value = terraform_data.db.output.cpu
}
