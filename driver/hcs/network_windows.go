//go:build windows

package hcs

import (
	"fmt"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"
)

// attachNetwork makes the endpoints plan asks for. It returns the endpoint
// IDs for the container document and the ID of the endpoint it created
// (named after the compute system, so Remove finds it even without a
// record), "" when it created none.
func attachNetwork(systemID string, plan endpointPlan) (endpoints []string, created string, err error) {
	switch {
	case plan.Namespace != "":
		ids, err := hcn.GetNamespaceEndpointIds(plan.Namespace)
		if err != nil {
			return nil, "", fmt.Errorf("network namespace %s: %w", plan.Namespace, err)
		}
		return ids, "", nil
	case plan.NetworkType == "":
		return nil, "", nil
	}
	list, err := hcsshim.HNSListNetworkRequest("GET", "", "")
	if err != nil {
		return nil, "", fmt.Errorf("list HNS networks: %w", err)
	}
	nets := make([]hnsNetwork, 0, len(list))
	for _, n := range list {
		nets = append(nets, hnsNetwork{ID: n.Id, Name: n.Name, Type: n.Type})
	}
	net, err := pickNetwork(nets, plan.NetworkType)
	if err != nil {
		return nil, "", err
	}
	ep := &hcsshim.HNSEndpoint{Name: systemID, VirtualNetwork: net.ID, Policies: plan.Policies}
	if ep, err = ep.Create(); err != nil {
		return nil, "", fmt.Errorf("create endpoint on network %s: %w", net.Name, err)
	}
	return []string{ep.Id}, ep.Id, nil
}

// deleteEndpoint deletes the endpoint the driver made for a compute system:
// by ID when recorded, else by the system's name. None is not an error.
func deleteEndpoint(systemID, endpointID string) error {
	var (
		ep  *hcsshim.HNSEndpoint
		err error
	)
	if endpointID != "" {
		ep, err = hcsshim.GetHNSEndpointByID(endpointID)
	} else {
		ep, err = hcsshim.GetHNSEndpointByName(systemID)
	}
	if err != nil {
		if hcsshim.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("find endpoint of %s: %w", systemID, err)
	}
	if _, err := ep.Delete(); err != nil && !hcsshim.IsNotExist(err) {
		return fmt.Errorf("delete endpoint %s: %w", ep.Id, err)
	}
	return nil
}
